//! `catalog-gen`: generates the connector's action catalog (`src/catalog/generated.rs`) and its
//! JSON listing (`fixtures/catalog/clm-public.json`) from Ironclad's official OpenAPI.
//!
//! ```text
//! cargo run -p catalog-gen                      # regenerate both files
//! cargo run -p catalog-gen -- --check           # CI: fail if either file is stale
//! cargo run -p catalog-gen -- --spec X --out Y  # other locations (relative to the cwd)
//! cargo run -p catalog-gen -- --all --out Y     # every operation the generator can handle
//! ```

mod render;
mod row;
mod schema;
mod spec;

use anyhow::{Context, Result, anyhow, bail};
use row::{NeedsSpecialModule, Row};
use spec::Spec;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The operations exposed as actions, by operationId; the catalog grows as the emulator covers
/// more. Rows come out in spec order, whatever the order here.
const ENABLED: &[&str] = &[
    "list-all-workflows",
    "retrieve-a-workflow",
    "launch-a-new-workflow",
    "list-all-workflow-schemas",
    "retrieve-a-workflow-schema",
    "create-a-new-workflow-async",
    "retrieve-asynchronous-workflow-status",
    "create-a-webhook",
    "list-all-webhooks",
    "retrieve-a-webhook",
    "update-a-webhook",
    "delete-a-webhook",
    "export",
    "export-job",
    "run-conversational-search",
    "list-all-workflow-approvals",
    "approval-requests",
    "update-workflow-approval",
    "turn-history",
    "list-all-workflow-participants",
    "update-workflow-role-assignment",
    "list-workflow-role-eligible-assignees",
    "revert-to-review",
    "cancel-a-workflow",
    "pause-a-workflow",
    "resume-a-workflow",
    "deprecated-create-a-comment-on-a-workflow",
    "create-a-comment-on-a-workflow",
    "list-all-comments-in-a-workflow",
    "list-a-comment-from-a-workflow",
    "update-workflow-metadata",
    "list-all-records",
    "create-a-record",
    "retrieve-a-record",
    "replace-a-record",
    "delete-a-record",
    "update-record-metadata",
    "list-all-records-metadata",
    "run-an-action-on-a-record",
    "create-attachment-download-urls",
    "get-attachment-download-urls-status",
    "retrieve-import-predictions",
    "get-all-entity-relationship-types",
    "list-all-entities",
    "create-an-entity",
    "retrieve-an-entity",
    "update-an-entity",
    "delete-an-entity",
    "list-all-obligations",
    "create-an-obligation",
    "retrieve-an-obligation",
    "update-an-obligation",
    "get-sign-status",
    "send-signature-request",
    "schedule-send-signature-request",
    "update-scheduled-signature-request",
    "delete-scheduled-signature-request",
    "cancel-signature-request",
    "update-signer",
    "delete-signer",
    "remind-signer",
    "list-all-workflow-signers",
    "create-recipient-url",
    "create-embeddable-recipient-url",
    "retrieve-workflow-documents",
    "update-workflow-signature-packet",
    "retrieve-email-threads-from-workflow",
    "retrieve-email-thread-from-workflow",
    "workflow-upload-signed-document",
    "create-a-workflow-document",
    "create-an-attachment-on-a-record",
    "create-a-smart-import-record",
    "create-a-smart-import-record-to-import",
    "retrieve-a-workflow-document",
    "retrieve-attachment-from-email-thread",
    "retrieve-an-attachment-on-a-record",
    "retrieve-xlsx-export-file-of-all-records",
    "export-job-download",
    "retrieve-webhook-verification-key",
    "delete-an-attachment-on-a-record",
];

/// Defaults, relative to the workspace root.
const DEFAULT_SPEC: &str = "../shared/ironclad/openapi/ironclad-public-api-openapi.yml";
const DEFAULT_OUT: &str = "src/catalog/generated.rs";
const DEFAULT_FIXTURE: &str = "fixtures/catalog/clm-public.json";

const USAGE: &str = "usage: catalog-gen [--spec PATH] [--out PATH] [--fixture PATH] [--check] [--all]

  --spec PATH     Ironclad's OpenAPI YAML (default: <workspace>/../shared/ironclad/openapi/ironclad-public-api-openapi.yml)
  --out PATH      the Rust catalog to write (default: <workspace>/src/catalog/generated.rs)
  --fixture PATH  the JSON listing to write (default: <workspace>/fixtures/catalog/clm-public.json)
  --check         write nothing; exit 1 if either file differs from what would be generated
  --all           ignore ENABLED: emit every operation that needs no special module (a test aid)";

struct Args {
    spec: PathBuf,
    out: PathBuf,
    fixture: PathBuf,
    check: bool,
    all: bool,
}

/// Which operations become rows.
enum Selection<'a> {
    /// Exactly these operationIds; any that cannot be generated is an error.
    Only(&'a [&'a str]),
    /// Every operation, skipping (and reporting) those that need a special module.
    All,
}

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(err) => {
            eprintln!("catalog-gen: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<ExitCode> {
    let workspace = workspace_root();
    let Some(args) = parse_args(std::env::args().skip(1), &workspace)? else {
        println!("{USAGE}");
        return Ok(ExitCode::SUCCESS);
    };
    let spec = Spec::load(&args.spec)?;
    let selection = if args.all {
        Selection::All
    } else {
        Selection::Only(ENABLED)
    };
    let rows = select_rows(&spec, &selection)?;
    let rust = render::rustfmt(&render::rust_source(&rows), &workspace)?;
    let fixture = render::fixture_json(&rows);
    // The README's action table is generated too, so the docs never lag the catalog.
    let readme_path = workspace.join("README.md");
    let readme = std::fs::read_to_string(&readme_path)
        .with_context(|| format!("reading {}", readme_path.display()))?;
    let readme = render::splice_readme(&readme, &render::readme_actions(&rows))?;
    let outputs = [
        (&args.out, rust),
        (&args.fixture, fixture),
        (&readme_path, readme),
    ];
    if args.check {
        return check(&outputs);
    }
    for (path, text) in &outputs {
        write_if_changed(path, text)?;
    }
    eprintln!(
        "catalog-gen: {} operations -> {}, {}",
        rows.len(),
        args.out.display(),
        args.fixture.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// The workspace this tool belongs to: `tools/catalog-gen/../..`.
fn workspace_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root)
}

/// Parsed arguments, or `None` for `--help`.
fn parse_args(mut args: impl Iterator<Item = String>, workspace: &Path) -> Result<Option<Args>> {
    let mut parsed = Args {
        spec: workspace.join(DEFAULT_SPEC),
        out: workspace.join(DEFAULT_OUT),
        fixture: workspace.join(DEFAULT_FIXTURE),
        check: false,
        all: false,
    };
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .map(PathBuf::from)
                .ok_or_else(|| anyhow!("{arg} needs a value\n\n{USAGE}"))
        };
        match arg.as_str() {
            "--spec" => parsed.spec = value()?,
            "--out" => parsed.out = value()?,
            "--fixture" => parsed.fixture = value()?,
            "--check" => parsed.check = true,
            "--all" => parsed.all = true,
            "-h" | "--help" => return Ok(None),
            other => bail!("unknown argument `{other}`\n\n{USAGE}"),
        }
    }
    Ok(Some(parsed))
}

/// Rows for the selected operations, in spec order, with keys checked.
fn select_rows(spec: &Spec, selection: &Selection<'_>) -> Result<Vec<Row>> {
    let operations = spec.operations()?;
    if let Selection::Only(enabled) = selection {
        let known: Vec<&str> = operations
            .iter()
            .map(row::operation_id)
            .collect::<Result<_>>()?;
        if let Some(missing) = enabled.iter().find(|id| !known.contains(id)) {
            bail!("ENABLED lists `{missing}`, which is not an operationId in the spec");
        }
    }
    let mut rows = Vec::new();
    for op in &operations {
        let id = row::operation_id(op)?;
        match selection {
            Selection::Only(enabled) if !enabled.contains(&id) => continue,
            Selection::Only(_) => rows.push(row::derive(spec, op)?),
            Selection::All => match row::derive(spec, op) {
                Ok(row) => rows.push(row),
                Err(err) if err.is::<NeedsSpecialModule>() => {
                    eprintln!("catalog-gen: skipped: {err}")
                }
                Err(err) => return Err(err),
            },
        }
    }
    check_keys(&rows)?;
    Ok(rows)
}

/// Keys are the public action names: they must be well-formed and unique.
fn check_keys(rows: &[Row]) -> Result<()> {
    for (i, row) in rows.iter().enumerate() {
        if !row::valid_key(&row.key) {
            bail!(
                "operation {}: key `{}` does not match ^[a-z][a-z0-9_]{{0,47}}$",
                row.operation_id,
                row.key
            );
        }
        if let Some(other) = rows[..i].iter().find(|r| r.key == row.key) {
            bail!(
                "operations {} and {} both map to key `{}`",
                other.operation_id,
                row.operation_id,
                row.key
            );
        }
    }
    Ok(())
}

/// `--check`: compare without writing; report every stale file.
fn check(outputs: &[(&PathBuf, String)]) -> Result<ExitCode> {
    let mut stale = false;
    for (path, expected) in outputs {
        let problem = match std::fs::read_to_string(path) {
            Ok(actual) if &actual == expected => continue,
            Ok(_) => "is stale (differs from what the OpenAPI spec generates)",
            Err(_) => "is missing",
        };
        eprintln!(
            "catalog-gen: {} {problem}; regenerate with: cargo run -p catalog-gen",
            path.display()
        );
        stale = true;
    }
    Ok(if stale {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Write only on change, so an unchanged catalog does not trigger a rebuild.
fn write_if_changed(path: &Path, text: &str) -> Result<()> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(());
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use row::{BodyKind, Location, Method, PartKind, ResponseKind, Style};

    fn real_spec() -> Spec {
        Spec::load(&workspace_root().join(DEFAULT_SPEC)).expect("the official spec is readable")
    }

    fn enabled_rows() -> Vec<Row> {
        select_rows(&real_spec(), &Selection::Only(ENABLED)).unwrap()
    }

    fn find<'a>(rows: &'a [Row], key: &str) -> &'a Row {
        rows.iter()
            .find(|r| r.key == key)
            .unwrap_or_else(|| panic!("no row {key}"))
    }

    #[test]
    fn enabled_operations_in_spec_order() {
        let spec = real_spec();
        let in_spec: Vec<String> = select_rows(&spec, &Selection::All)
            .unwrap()
            .into_iter()
            .map(|r| r.operation_id)
            .filter(|id| ENABLED.contains(&id.as_str()))
            .collect();
        let emitted: Vec<String> = enabled_rows().into_iter().map(|r| r.operation_id).collect();
        assert_eq!(
            emitted.len(),
            ENABLED.len(),
            "every ENABLED operation is emitted once"
        );
        assert_eq!(
            emitted, in_spec,
            "rows follow the spec's order, not ENABLED's"
        );
        let first: Vec<String> = enabled_rows().into_iter().take(3).map(|r| r.key).collect();
        assert_eq!(
            first,
            [
                "launch_new_workflow",
                "list_workflows",
                "create_new_workflow_async"
            ]
        );
    }

    #[test]
    fn enabled_operations_match_the_spec() {
        let rows = enabled_rows();

        let list = find(&rows, "list_workflows");
        assert_eq!(
            (list.method, list.path.as_str()),
            (Method::Get, "/workflows")
        );
        assert_eq!(list.pagination, Some(true));
        assert_eq!(list.scopes, ["public.workflows.readWorkflows"]);
        assert!(list.read_only && list.idempotent && !list.destructive);
        assert!(
            !list
                .params
                .iter()
                .any(|p| p.name == "page" || p.name == "pageSize" || p.name.starts_with("x-as-"))
        );
        let status = list.params.iter().find(|p| p.name == "status").unwrap();
        assert_eq!(
            (status.style, status.default.as_deref()),
            (Style::CommaList, None)
        );
        assert!(list.input_schema.pointer("/properties/max_items").is_some());
        assert_eq!(
            list.input_schema.pointer("/properties/cursor/type"),
            Some(&serde_json::json!("string"))
        );
        assert!(list.output_schema.pointer("/properties/next").is_some());
        assert!(list.output_schema.pointer("/properties/count").is_some());

        let get = find(&rows, "retrieve_workflow");
        assert_eq!(
            (get.method, get.path.as_str(), get.pagination),
            (Method::Get, "/workflows/{id}", None)
        );
        let id = get.params.iter().find(|p| p.name == "id").unwrap();
        assert!(id.location == Location::Path && id.required);
        assert_eq!(
            get.input_schema.pointer("/properties/id/minLength"),
            Some(&serde_json::json!(1))
        );

        let launch = find(&rows, "launch_new_workflow");
        assert_eq!(
            (launch.method, launch.path.as_str(), launch.pagination),
            (Method::Post, "/workflows", None)
        );
        assert_eq!(
            (launch.body.clone(), launch.response),
            (BodyKind::Json { required: false }, ResponseKind::JsonObject)
        );
        assert!(!launch.read_only && !launch.idempotent && !launch.destructive);
        assert!(
            launch
                .description
                .starts_with("Launch a new Workflow synchronously.")
                && !launch.description.contains("OAuth")
        );

        let schemas = find(&rows, "list_workflow_schemas");
        assert_eq!(
            (schemas.method, schemas.path.as_str(), schemas.pagination),
            (Method::Get, "/workflow-schemas", None)
        );
        let form = schemas.params.iter().find(|p| p.name == "form").unwrap();
        assert_eq!(
            (form.required, form.default.as_deref()),
            (true, Some("launch"))
        );
        // The executor fills the default, so the input may leave `form` out.
        assert!(schemas.input_schema.get("required").is_none());

        let schema = find(&rows, "retrieve_workflow_schema");
        assert_eq!(schema.path, "/workflow-schemas/{id}");
        let form = schema.params.iter().find(|p| p.name == "form").unwrap();
        assert_eq!((form.required, form.default.as_deref()), (false, None));
    }

    #[test]
    fn file_operations_derive_multipart_binary_and_text_rows() {
        let spec = real_spec();
        let ids = [
            "workflow-upload-signed-document",
            "create-a-workflow-document",
            "create-an-attachment-on-a-record",
            "create-a-smart-import-record",
            "create-a-smart-import-record-to-import",
            "retrieve-a-workflow-document",
            "retrieve-attachment-from-email-thread",
            "retrieve-an-attachment-on-a-record",
            "retrieve-xlsx-export-file-of-all-records",
            "export-job-download",
            "retrieve-webhook-verification-key",
        ];
        let rows = select_rows(&spec, &Selection::Only(&ids)).unwrap();
        assert_eq!(rows.len(), ids.len());
        let part = |name: &str, kind, required, default: Option<&str>| row::PartRow {
            name: name.into(),
            kind,
            required,
            default: default.map(str::to_string),
        };
        let parts = |key: &str| match &find(&rows, key).body {
            BodyKind::Multipart { parts } => parts.clone(),
            other => panic!("{key}: {other:?}"),
        };

        // The spec types this attachment `object` + `format: binary`: still a file.
        assert_eq!(
            parts("workflow_upload_signed_document"),
            [
                part("attachment", PartKind::File, true, None),
                part("metadata", PartKind::Json, false, None)
            ]
        );
        let doc = find(&rows, "create_workflow_document");
        assert_eq!(doc.response, ResponseKind::Empty);
        assert_eq!(
            doc.input_schema["required"],
            serde_json::json!(["id", "attributeId", "attachment", "metadata"])
        );
        assert_eq!(
            doc.input_schema.pointer("/properties/attachment/required"),
            Some(&serde_json::json!(["file_name", "content_base64"]))
        );
        assert_eq!(
            doc.input_schema
                .pointer("/properties/attachment/properties/content_base64/contentEncoding"),
            Some(&serde_json::json!("base64"))
        );
        assert_eq!(
            doc.input_schema
                .pointer("/properties/metadata/properties/comment/type"),
            Some(&serde_json::json!("object"))
        );
        // No `required` in the spec's schema: the file part is required all the same.
        assert_eq!(
            parts("create_attachment_on_record"),
            [
                part("attachment", PartKind::File, true, None),
                part("metadata", PartKind::Json, false, None)
            ]
        );
        let attach = find(&rows, "create_attachment_on_record");
        assert!(attach.params.iter().any(|p| p.name == "addressAsObject"));
        assert_eq!(
            attach
                .params
                .iter()
                .find(|p| p.name == "key")
                .unwrap()
                .default,
            Some("signedCopy".into())
        );
        assert_eq!(
            parts("create_smart_import_record"),
            [
                part("attachment", PartKind::File, true, None),
                part("recordType", PartKind::Text, false, None),
                part("newRecordTypeId", PartKind::Text, false, None),
                part("newRecordTypeDisplayName", PartKind::Text, false, None),
            ]
        );
        // Required with a default: the executor sends `imported`, so the input may omit it.
        let to_import = parts("create_smart_import_record_to_import");
        assert!(to_import.contains(&part("recordType", PartKind::Text, true, Some("imported"))));
        let to_import = find(&rows, "create_smart_import_record_to_import");
        assert_eq!(
            to_import.input_schema["required"],
            serde_json::json!(["importId", "attachment"])
        );

        for key in [
            "retrieve_workflow_document",
            "retrieve_attachment_from_email_thread",
            "retrieve_attachment_on_record",
            "retrieve_xlsx_export_file_of_records",
            "export_job_download",
        ] {
            let row = find(&rows, key);
            assert_eq!(row.response, ResponseKind::Binary, "{key}");
            assert_eq!(
                row.output_schema["required"],
                serde_json::json!(["file_name", "content_type", "size", "content_base64"])
            );
        }
        let key = find(&rows, "retrieve_webhook_verification_key");
        assert_eq!(key.response, ResponseKind::Text);
        assert_eq!(
            key.output_schema["required"],
            serde_json::json!(["content_type", "text"])
        );
        // JSON wins where the spec offers JSON and multipart.
        let launch = select_rows(&spec, &Selection::Only(&["launch-a-new-workflow"])).unwrap();
        assert_eq!(launch[0].body, BodyKind::Json { required: false });
    }

    #[test]
    fn unknown_body_media_types_fail_loudly() {
        let spec = Spec::from_value(serde_json::json!({
            "openapi": "3.1.0",
            "paths": {"/things": {"post": {
                "operationId": "create-thing", "summary": "Create", "tags": ["Things"],
                "requestBody": {"content": {"application/x-www-form-urlencoded": {"schema": {"type": "object"}}}},
                "responses": {"200": {"description": "ok"}}
            }}}
        }));
        let err = select_rows(&spec, &Selection::Only(&["create-thing"])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "operation create-thing needs a special module: `application/x-www-form-urlencoded` body"
        );
        let unknown = select_rows(&spec, &Selection::Only(&["no-such-operation"])).unwrap_err();
        assert!(unknown.to_string().contains("no-such-operation"));
    }

    #[test]
    fn every_supported_operation_derives_with_unique_keys() {
        let spec = real_spec();
        let rows = select_rows(&spec, &Selection::All).unwrap();
        // Multipart, binary and text operations included: the spec needs no special module.
        assert_eq!(rows.len(), spec.operations().unwrap().len());
        let webhooks = find(&rows, "list_webhooks");
        assert_eq!(webhooks.pagination, Some(false));
        assert!(
            webhooks
                .output_schema
                .pointer("/properties/count")
                .is_none()
        );
        let delete = find(&rows, "delete_webhook");
        assert_eq!(
            (delete.response, delete.destructive, delete.idempotent),
            (ResponseKind::Empty, true, true)
        );
        let types = find(&rows, "get_entity_relationship_types");
        assert_eq!(types.response, ResponseKind::JsonValue);
    }

    #[test]
    fn args_default_to_the_workspace() {
        let ws = Path::new("/ws");
        let args = parse_args(std::iter::empty(), ws).unwrap().unwrap();
        assert_eq!(args.out, ws.join(DEFAULT_OUT));
        assert!(!args.check);
        let args = parse_args(
            ["--check", "--out", "x.rs"].map(String::from).into_iter(),
            ws,
        )
        .unwrap()
        .unwrap();
        assert!(args.check && args.out == Path::new("x.rs"));
        assert!(parse_args(["--bogus".to_string()].into_iter(), ws).is_err());
        assert!(
            parse_args(["--help".to_string()].into_iter(), ws)
                .unwrap()
                .is_none()
        );
    }
}
