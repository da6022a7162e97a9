//! Known mistakes of Ironclad's official OpenAPI documents, corrected before they are parsed.

use serde_json::Value;

/// A correction of the official document: the value at `pointer` (a JSON Pointer into the
/// document) is replaced by `corrected` when it is `mistaken` (both JSON text).
pub struct Erratum {
    pub pointer: &'static str,
    pub mistaken: &'static str,
    pub corrected: &'static str,
    /// What is wrong, and the evidence.
    pub why: &'static str,
}

/// The official document's known mistakes.
pub const ERRATA: &[Erratum] = &[Erratum {
    pointer: "/components/schemas/WorkflowLaunchMultipartModel/properties/data/required",
    mistaken: r#"["template", "attribute"]"#,
    corrected: r#"["template", "attributes"]"#,
    why: "the multipart launch's `data` part requires `attribute`, a property it does not \
          declare: its properties are `template`, `attributes` and `creator`, and the JSON \
          launch (WorkflowLaunchModel) requires `attributes`. As written no launch with files \
          could pass; `attributes` is meant.",
}];

/// Apply the errata whose spot holds the mistaken value; returns them.
pub(super) fn correct(root: &mut Value, errata: &'static [Erratum]) -> Vec<&'static Erratum> {
    let text = |json: &str| -> Value { serde_json::from_str(json).expect("errata are JSON") };
    errata
        .iter()
        .filter_map(|e| {
            let spot = root.pointer_mut(e.pointer)?;
            (*spot == text(e.mistaken)).then(|| {
                *spot = text(e.corrected);
                e
            })
        })
        .collect()
}

/// Where a status the document leaves undeclared may still be answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Undeclared {
    /// By every operation.
    Everywhere,
    /// By operations whose path names a resource (`/workflows/{id}`): it may not exist.
    NamedResource,
}

/// A status Ironclad answers beyond what each operation declares. The documents declare error
/// statuses unevenly (`GET /workflows/{id}` declares 200 and 400 only), while Ironclad's own
/// documentation describes them for the whole API.
pub struct UndeclaredStatus {
    pub status: u16,
    pub applies: Undeclared,
    /// The evidence.
    pub why: &'static str,
}

/// Statuses judged as errors (a JSON object or no body) wherever the document is silent.
pub const UNDECLARED_STATUSES: &[UndeclaredStatus] = &[
    UndeclaredStatus {
        status: 401,
        applies: Undeclared::Everywhere,
        why: "a missing, expired or revoked token is refused with 401 UNAUTHORIZED on any \
              path of the API, existing or not (Ironclad's authentication guide; observed)",
    },
    UndeclaredStatus {
        status: 403,
        applies: Undeclared::Everywhere,
        why: "a token without the operation's scope, or a user without the permission, is \
              refused with 403 (Ironclad's scopes guide); the documents declare it on 17 \
              operations only",
    },
    UndeclaredStatus {
        status: 404,
        applies: Undeclared::NamedResource,
        why: "a resource named in the path that does not exist is 404 NOT_FOUND, as the \
              operations that declare it say; the rest of the same family omit it \
              (inferred for those)",
    },
    UndeclaredStatus {
        status: 429,
        applies: Undeclared::Everywhere,
        why: "rate limits apply to every request (Ironclad's rate-limit guide: 429 with \
              Retry-After); three operations declare it",
    },
    UndeclaredStatus {
        status: 500,
        applies: Undeclared::Everywhere,
        why: "a server failure can end any request (HTTP semantics); no document declares it",
    },
    UndeclaredStatus {
        status: 503,
        applies: Undeclared::Everywhere,
        why: "the service unavailable, e.g. during maintenance (HTTP semantics)",
    },
];
