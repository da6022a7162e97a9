//! `catalog-gen`: generates the connector's action catalogs from Ironclad's official OpenAPI
//! documents, one per API type ([`APIS`]): the CLM Public API (`src/api_types/clm_public/generated.rs`,
//! `fixtures/catalog/clm-public.json`) and the CLM SCIM API (`src/api_types/clm_scim/generated.rs`,
//! `fixtures/catalog/clm-scim.json`), plus the action tables of `docs/actions.md`.
//!
//! ```text
//! cargo run -p catalog-gen                      # regenerate every file
//! cargo run -p catalog-gen -- --check           # CI: fail if any file is stale
//! cargo run -p catalog-gen -- --spec X --out Y  # other locations for the CLM Public API
//! cargo run -p catalog-gen -- --all --out Y     # every CLM operation the generator can handle
//! ```

mod contract;
mod fragments;
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

/// The SCIM operations exposed as actions: all 14 of the spec.
const SCIM_ENABLED: &[&str] = &[
    "retrieve-all-users",
    "create-a-user",
    "retrieve-a-user",
    "update-user-data",
    "replace-a-user",
    "delete-a-user",
    "retrieve-all-groups",
    "create-a-group",
    "retrieve-a-group",
    "update-group-membership",
    "replace-a-group",
    "delete-a-group",
    "list-all-schemas",
    "retrieve-a-schema",
];

/// One API type's catalog: where its spec is, what to write, and how its actions are named.
pub struct Api {
    /// For docs/actions.md: "Ironclad's {title}".
    pub title: &'static str,
    /// Defaults, relative to the workspace root.
    pub spec: &'static str,
    pub out: &'static str,
    pub fixture: &'static str,
    pub enabled: &'static [&'static str],
    /// The `config::ApiType` variant the rows carry.
    pub api_type: &'static str,
    /// The name of the generated `static`.
    pub static_name: &'static str,
    /// Prepended to every key, so keys of two APIs never clash.
    pub key_prefix: &'static str,
    /// Prepended to every area (group), e.g. `SCIM Users`.
    pub area_prefix: &'static str,
    /// operationId → key (before the prefix) where the derived key would mislead.
    pub renames: &'static [(&'static str, &'static str)],
    /// The name of the markers in docs/actions.md (see `render::readme_markers`).
    pub readme_marker: &'static str,
}

pub const CLM: Api = Api {
    title: "CLM Public API",
    spec: "../shared/ironclad/openapi/ironclad-public-api-openapi.yml",
    out: "src/api_types/clm_public/generated.rs",
    fixture: "fixtures/catalog/clm-public.json",
    enabled: ENABLED,
    api_type: "ClmPublic",
    static_name: "OPERATIONS",
    key_prefix: "",
    area_prefix: "",
    renames: &[],
    readme_marker: "actions",
};

/// SCIM's operationIds mix `retrieve-all-*` with the CLM spec's `list-all-*`, and name the
/// PATCHes by use (`update-user-data`, `update-group-membership`); the renames give one verb
/// per method across both catalogs: list, create, retrieve, replace (PUT), patch, delete.
pub const SCIM: Api = Api {
    title: "CLM SCIM API (SCIM 2.0)",
    spec: "../shared/ironclad/openapi/ironclad-scim-api-openapi.yml",
    out: "src/api_types/clm_scim/generated.rs",
    fixture: "fixtures/catalog/clm-scim.json",
    enabled: SCIM_ENABLED,
    api_type: "ClmScim",
    static_name: "SCIM_OPERATIONS",
    key_prefix: "scim_",
    area_prefix: "SCIM ",
    renames: &[
        ("retrieve-all-users", "list_users"),
        ("update-user-data", "patch_user"),
        ("retrieve-all-groups", "list_groups"),
        ("update-group-membership", "patch_group"),
    ],
    readme_marker: "scim-actions",
};

/// Every API type with a catalog, in the order `describe` lists them.
pub const APIS: [&Api; 2] = [&CLM, &SCIM];

/// Defaults of the CLM Public API, relative to the workspace root.
const DEFAULT_SPEC: &str = CLM.spec;
const DEFAULT_OUT: &str = CLM.out;
const DEFAULT_FIXTURE: &str = CLM.fixture;

const USAGE: &str = "usage: catalog-gen [--spec PATH] [--out PATH] [--fixture PATH] [--check] [--all]

  --spec PATH     Ironclad's OpenAPI YAML (default: <workspace>/../shared/ironclad/openapi/ironclad-public-api-openapi.yml)
  --out PATH      the Rust catalog to write (default: <workspace>/src/api_types/clm_public/generated.rs)
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
    // The action tables of docs/actions.md are generated too, so the docs never lag the
    // catalogs.
    let readme_path = workspace.join("docs/actions.md");
    let mut readme = std::fs::read_to_string(&readme_path)
        .with_context(|| format!("reading {}", readme_path.display()))?;
    let mut outputs = Vec::new();
    for api in APIS {
        let is_clm = std::ptr::eq(api, &CLM);
        let (spec_path, out, fixture) = if is_clm {
            (args.spec.clone(), args.out.clone(), args.fixture.clone())
        } else {
            (
                workspace.join(api.spec),
                workspace.join(api.out),
                workspace.join(api.fixture),
            )
        };
        let spec = Spec::load(&spec_path)?;
        let selection = if args.all && is_clm {
            Selection::All
        } else {
            Selection::Only(api.enabled)
        };
        let rows = select_rows_for(&spec, &selection, api)?;
        let rust = render::rustfmt(&render::rust_source(&rows, api), &workspace)?;
        readme = render::splice_readme(
            &readme,
            api.readme_marker,
            &render::readme_actions(&rows, api),
        )?;
        eprintln!(
            "catalog-gen: {}: {} operations -> {}, {}",
            api.title,
            rows.len(),
            out.display(),
            fixture.display()
        );
        outputs.push((out, rust));
        outputs.push((fixture, render::fixture_json(&rows)));
    }
    outputs.push((readme_path, readme));
    for file in &contract::CONTRACTS {
        let spec_path = workspace.join(file.spec);
        let root = Spec::load(&spec_path)?.into_root();
        eprintln!(
            "catalog-gen: contract of {} -> {}",
            spec_path.display(),
            file.out
        );
        outputs.push((workspace.join(file.out), contract::facts_json(&root)));
    }
    if args.check {
        return check(&outputs);
    }
    for (path, text) in &outputs {
        write_if_changed(path, text)?;
    }
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

/// Rows of the CLM Public API (see `select_rows_for`).
#[cfg(test)]
fn select_rows(spec: &Spec, selection: &Selection<'_>) -> Result<Vec<Row>> {
    select_rows_for(spec, selection, &CLM)
}

/// Rows for the selected operations of `api`, in spec order, named for `api`, keys checked.
fn select_rows_for(spec: &Spec, selection: &Selection<'_>, api: &Api) -> Result<Vec<Row>> {
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
    for row in &mut rows {
        name_for(row, api);
    }
    check_keys(&rows)?;
    Ok(rows)
}

/// Key and area as `api` names them.
fn name_for(row: &mut Row, api: &Api) {
    if let Some((_, key)) = api.renames.iter().find(|(id, _)| *id == row.operation_id) {
        row.key = key.to_string();
    }
    row.key = format!("{}{}", api.key_prefix, row.key);
    row.area = format!("{}{}", api.area_prefix, row.area);
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
fn check(outputs: &[(PathBuf, String)]) -> Result<ExitCode> {
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
    use row::{BodyKind, Location, Method, Paging, PartKind, ResponseKind, Style};

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
        assert_eq!(list.pagination, Some(Paging::PageSize { has_count: true }));
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
        assert_eq!(
            get.input_schema.pointer("/properties/id/maxLength"),
            Some(&serde_json::json!(row::PATH_PARAM_MAX_LENGTH))
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
        assert_eq!(
            webhooks.pagination,
            Some(Paging::PageSize { has_count: false })
        );
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

    #[test]
    fn scim_catalog_covers_the_spec() {
        let spec = Spec::load(&workspace_root().join(SCIM.spec)).expect("the SCIM spec loads");
        let rows = select_rows_for(&spec, &Selection::Only(SCIM.enabled), &SCIM).unwrap();
        assert_eq!(rows.len(), spec.operations().unwrap().len());
        assert_eq!(rows.len(), 14);
        assert!(
            rows.iter()
                .all(|r| r.key.starts_with("scim_") && r.area.starts_with("SCIM "))
        );
        assert!(
            rows.iter()
                .all(|r| r.scopes.len() == 1 && r.scopes[0].starts_with("scim."))
        );

        let list = find(&rows, "scim_list_users");
        assert_eq!(list.operation_id, "retrieve-all-users");
        assert_eq!(list.pagination, Some(Paging::ScimIndex));
        assert_eq!(list.scopes, ["scim.users.readUsers"]);
        assert!(list.params.iter().any(|p| p.name == "filter"));
        assert!(
            !list.params.iter().any(|p| p.name == "startIndex"
                || p.name == "count"
                || p.name.starts_with("x-as-"))
        );
        assert!(
            list.output_schema
                .pointer("/properties/items/items/properties/userName")
                .is_some()
        );
        assert!(list.output_schema.pointer("/properties/count").is_some());

        let patch = find(&rows, "scim_patch_user");
        assert_eq!(patch.method, Method::Patch);
        // `schemas` has a default (the PatchOp URN): the executor sends it when left out.
        assert!(
            patch
                .input_schema
                .pointer("/properties/body/required")
                .is_none()
        );
        assert!(
            patch
                .input_schema
                .pointer("/properties/body/properties/schemas/default")
                .is_some()
        );
        let create = find(&rows, "scim_create_user");
        assert_eq!(
            create.input_schema.pointer("/properties/body/required"),
            Some(&serde_json::json!(["userName", "name"]))
        );
        let delete = find(&rows, "scim_delete_group");
        assert_eq!(
            (delete.response, delete.destructive),
            (ResponseKind::Empty, true)
        );
        assert_eq!(find(&rows, "scim_list_schemas").pagination, None);
        assert_eq!(find(&rows, "scim_patch_group").area, "SCIM Groups");
    }

    #[test]
    fn scopes_come_from_the_description_without_oauth2_security() {
        assert_eq!(
            row::description_scopes("Docs. \n\n**OAuth Scope required:** `scim.users.readUsers`"),
            ["scim.users.readUsers"]
        );
        assert_eq!(
            row::description_scopes("**OAuth Scopes required:** `a.b`, `c.d` and more `text`"),
            ["a.b", "c.d"]
        );
        assert!(row::description_scopes("none").is_empty());
    }
}
