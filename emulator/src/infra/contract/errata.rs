//! Known mistakes of Ironclad's official OpenAPI documents, corrected before they are parsed.

use serde_json::Value;

/// A correction of an official document at `pointer` (a JSON Pointer into it).
pub struct Erratum {
    pub pointer: &'static str,
    pub correction: Correction,
    /// What is wrong, and the evidence.
    pub why: &'static str,
}

/// What an [`Erratum`] changes. Each applies only while the document still holds the mistake,
/// so an erratum Ironclad has fixed stops applying (and a test says so).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Correction {
    /// The value there is the JSON text `mistaken`; it becomes `corrected`.
    Replace {
        mistaken: &'static str,
        corrected: &'static str,
    },
    /// The schema there says `oneOf` over branches an answer can match several of (error
    /// shapes that differ only in their titles): read as `anyOf`.
    OneOfAsAnyOf,
}

/// A 204 declared with a JSON body (an empty object schema).
const EMPTY_OBJECT_BODY: &str =
    r#"{"application/json": {"schema": {"type": "object", "properties": {}}}}"#;
const NO_CONTENT_WHY: &str = "a 204 answer cannot carry content (RFC 9110, section 15.3.5), \
    yet the document declares a JSON body for it. The declared schema is an empty object, so \
    reading it as no body loses nothing.";

/// A file download declared as a JSON object.
const DOWNLOAD_WHY: &str = "the operation answers the file's bytes in the file's own content \
    type (its description says it downloads the file; the example answers are documents), \
    but the document declares an `application/json` object.";
const OBJECT_DOWNLOAD: &str =
    r#"{"application/json": {"schema": {"type": "object", "properties": {}}}}"#;
const ANY_FILE: &str = r#"{"*/*": {"schema": {"type": "string", "format": "binary"}}}"#;

const OVERLAP_WHY: &str = "`oneOf` over error shapes that differ only in their titles: every \
    error body matches more than one branch, so as written no answer could be valid. The \
    branches list the possible errors; `anyOf` is meant.";

/// The official documents' known mistakes, each with its evidence.
pub const ERRATA: &[Erratum] = &[
    Erratum {
        pointer: "/components/schemas/CreatorModel/additionalProperties",
        correction: Correction::Replace {
            mistaken: "false",
            corrected: "true",
        },
        why: "the launch's `creator` is closed (`additionalProperties: false`) while it names no \
              property of its own: its shape is a `oneOf` of CreatorEmailModel and \
              CreatorIdModel, each closed already. As written every creator is refused, though \
              the description says a creator is taken (and ignored with OAuth tokens).",
    },
    Erratum {
        pointer: "/components/schemas/WorkflowLaunchMultipartModel/properties/data/required",
        correction: Correction::Replace {
            mistaken: r#"["template", "attribute"]"#,
            corrected: r#"["template", "attributes"]"#,
        },
        why: "the multipart launch's `data` part requires `attribute`, a property it does not \
              declare: its properties are `template`, `attributes` and `creator`, and the JSON \
              launch (WorkflowLaunchModel) requires `attributes`. As written no launch with \
              files could pass; `attributes` is meant.",
    },
    Erratum {
        pointer: "/paths/~1records~1{id}/delete/responses/204/content",
        correction: Correction::Replace {
            mistaken: EMPTY_OBJECT_BODY,
            corrected: "{}",
        },
        why: NO_CONTENT_WHY,
    },
    Erratum {
        pointer: "/paths/~1entities~1{id}/delete/responses/204/content",
        correction: Correction::Replace {
            mistaken: EMPTY_OBJECT_BODY,
            corrected: "{}",
        },
        why: NO_CONTENT_WHY,
    },
    Erratum {
        pointer: "/paths/~1workflows~1{id}~1comment/post/responses/204/content",
        correction: Correction::Replace {
            mistaken: EMPTY_OBJECT_BODY,
            corrected: "{}",
        },
        why: NO_CONTENT_WHY,
    },
    Erratum {
        pointer: "/paths/~1workflows~1{id}~1documents~1{attributeId}/post/responses/204/content",
        correction: Correction::Replace {
            mistaken: EMPTY_OBJECT_BODY,
            corrected: "{}",
        },
        why: NO_CONTENT_WHY,
    },
    Erratum {
        // Cancel, pause and resume.
        pointer: "/components/responses/WorkflowUpdateResponse204/content",
        correction: Correction::Replace {
            mistaken: EMPTY_OBJECT_BODY,
            corrected: "{}",
        },
        why: NO_CONTENT_WHY,
    },
    Erratum {
        pointer: "/paths/~1records~1{id}~1attachments~1{key}/get/responses/200/content",
        correction: Correction::Replace {
            mistaken: OBJECT_DOWNLOAD,
            corrected: ANY_FILE,
        },
        why: DOWNLOAD_WHY,
    },
    Erratum {
        pointer: "/paths/~1workflows~1{id}~1document~1{key}~1download/get/responses/200/content",
        correction: Correction::Replace {
            mistaken: OBJECT_DOWNLOAD,
            corrected: ANY_FILE,
        },
        why: DOWNLOAD_WHY,
    },
    Erratum {
        pointer: "/paths/~1workflows~1{id}~1emails~1{emailThreadId}~1attachments~1{attachmentId}/get/responses/200/content",
        correction: Correction::Replace {
            mistaken: OBJECT_DOWNLOAD,
            corrected: ANY_FILE,
        },
        why: DOWNLOAD_WHY,
    },
    Erratum {
        pointer: "/paths/~1records~1export/get/responses/200/content",
        correction: Correction::Replace {
            mistaken: OBJECT_DOWNLOAD,
            corrected: r#"{"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {"schema": {"type": "string", "format": "binary"}}}"#,
        },
        why: "the operation's name and description say it answers an XLSX file of all \
              records, but the document declares an `application/json` object.",
    },
    Erratum {
        pointer: "/paths/~1exports~1{jobId}~1download/get/responses/200/content",
        correction: Correction::Replace {
            mistaken: r#"{"application/json": {}}"#,
            corrected: ANY_FILE,
        },
        why: "an export job's download is the exported file (CSV or XLSX, per the job's \
              `exportType`), but the document declares `application/json`.",
    },
    Erratum {
        pointer: "/components/responses/AsyncWorkflowStatusResponse200/content/application~1json/schema/additionalProperties",
        correction: Correction::Replace {
            mistaken: "false",
            corrected: "true",
        },
        why: "the async launch status is `additionalProperties: false` with no `properties` \
              beside a `oneOf` of the three job states: as written only `{}` is valid, \
              though every branch requires `status` and `requestPayload`. Each branch keeps \
              its own `additionalProperties: false`.",
    },
    Erratum {
        pointer: "/components/schemas/LaunchedWorkflow/properties/schema",
        correction: Correction::Replace {
            mistaken: r##"{"$ref": "#/components/schemas/AttributesModel"}"##,
            corrected: r##"{"$ref": "#/components/schemas/WorkflowResponseModel/properties/schema"}"##,
        },
        why: "a launched workflow's `schema` describes its fields (`{type, displayName, …}` \
              per attribute), as in WorkflowResponseModel that retrieving the same workflow \
              answers; the document points it at AttributesModel, the launch request's \
              values (`counterpartyName` as a string).",
    },
    Erratum {
        pointer: "/components/schemas/RecordPropertyAddress/properties/value",
        correction: Correction::Replace {
            mistaken: r#"{"type": "object", "properties": {"lines": {"type": "array", "maxLength": 4, "items": {"type": "string"}}, "locality": {"type": "string"}, "country": {"type": "string"}, "region": {"type": "string"}, "postcode": {"type": "string"}, "raw": {"type": "string"}}}"#,
            corrected: r#"{"type": ["object", "string"], "properties": {"lines": {"type": "array", "maxLength": 4, "items": {"type": "string"}}, "locality": {"type": "string"}, "country": {"type": "string"}, "region": {"type": "string"}, "postcode": {"type": "string"}, "raw": {"type": "string"}}}"#,
        },
        why: "the record operations' `addressAsObject` parameter (default false) \"returns \
              addresses as objects instead of strings\": without it an address is a string, \
              which the property schema, an object only, does not allow.",
    },
    Erratum {
        pointer: "/components/schemas/RecordPropertyAddress/properties/originalValue",
        correction: Correction::Replace {
            mistaken: r#"{"type": "object", "properties": {"lines": {"type": "array", "maxLength": 4, "items": {"type": "string"}}, "locality": {"type": "string"}, "country": {"type": "string"}, "region": {"type": "string"}, "postcode": {"type": "string"}, "raw": {"type": "string"}}}"#,
            corrected: r#"{"type": ["object", "string"], "properties": {"lines": {"type": "array", "maxLength": 4, "items": {"type": "string"}}, "locality": {"type": "string"}, "country": {"type": "string"}, "region": {"type": "string"}, "postcode": {"type": "string"}, "raw": {"type": "string"}}}"#,
        },
        why: "as for `value`: without `addressAsObject=true` addresses are strings.",
    },
    Erratum {
        pointer: "/components/responses/WebhookCreateResponse400/content/application~1json/schema",
        correction: Correction::OneOfAsAnyOf,
        why: OVERLAP_WHY,
    },
    Erratum {
        pointer: "/components/responses/AttachmentDeleteResponse404/content/application~1json/schema",
        correction: Correction::OneOfAsAnyOf,
        why: OVERLAP_WHY,
    },
    Erratum {
        pointer: "/components/responses/RecordAttachmentResponse400/content/application~1json/schema",
        correction: Correction::OneOfAsAnyOf,
        why: OVERLAP_WHY,
    },
    Erratum {
        pointer: "/components/responses/WorkflowOrEmailNotFoundResponse404/content/application~1json/schema",
        correction: Correction::OneOfAsAnyOf,
        why: OVERLAP_WHY,
    },
    Erratum {
        pointer: "/components/responses/ObjectNotFoundResponse404/content/application~1json/schema",
        correction: Correction::OneOfAsAnyOf,
        why: OVERLAP_WHY,
    },
    Erratum {
        pointer: "/paths/~1workflows~1{id}~1upload-signed/post/responses/400/content/application~1json/schema",
        correction: Correction::OneOfAsAnyOf,
        why: OVERLAP_WHY,
    },
    Erratum {
        pointer: "/paths/~1workflows~1{id}~1signatures~1recipient-urls/post/responses/400/content/application~1json/schema",
        correction: Correction::OneOfAsAnyOf,
        why: OVERLAP_WHY,
    },
    Erratum {
        pointer: "/paths/~1workflows~1{id}~1signatures~1recipient-urls~1embedded/post/responses/400/content/application~1json/schema",
        correction: Correction::OneOfAsAnyOf,
        why: OVERLAP_WHY,
    },
    Erratum {
        pointer: "/paths/~1workflows~1{id}~1documents~1{attributeId}/post/responses/400/content/application~1json/schema",
        correction: Correction::OneOfAsAnyOf,
        why: "`oneOf` two plain strings (the operation answers its errors as JSON strings): \
              every message matches both. `anyOf` is meant.",
    },
    Erratum {
        pointer: "/paths/~1workflows~1{id}~1documents~1{attributeId}/post/responses/404/content/application~1json/schema",
        correction: Correction::OneOfAsAnyOf,
        why: "as for its 400: `oneOf` two plain strings.",
    },
    Erratum {
        pointer: "/paths/~1workflows~1{id}~1approvals~1{roleId}/patch/requestBody",
        correction: Correction::Replace {
            mistaken: r#"{"content": {"application/json": {"schema": {"type": "object", "required": ["status"], "properties": {"user": {"type": "object", "properties": {"email": {"type": "string"}, "type": {"type": "string", "default": "email"}}}, "status": {"type": "string", "enum": ["approved", "pending"]}}}}}}"#,
            corrected: r#"{"content": {"application/json": {"schema": {"type": "object", "required": ["status"], "properties": {"user": {"type": "object", "properties": {"email": {"type": "string"}, "type": {"type": "string", "default": "email"}}}, "status": {"type": "string", "enum": ["approved", "pending"]}}}}}, "required": true}"#,
        },
        why: "the approval update's body is optional while its schema requires `status`, and \
              the operation's 400s name no answer for a missing one: an update that says \
              nothing about the approval's status has nothing to do. The body is required.",
    },
    Erratum {
        pointer: "/paths/~1userinfo/get/responses/401/content/application~1json/schema",
        correction: Correction::OneOfAsAnyOf,
        why: "OAuth's 401: `oneOf` an invalid, a revoked and an expired token error, three \
              identical `{code, message}` shapes. `anyOf` is meant.",
    },
    Erratum {
        pointer: "/paths/~1company-info/get/responses/401/content/application~1json/schema",
        correction: Correction::OneOfAsAnyOf,
        why: "as for `/userinfo`: three identical token error shapes.",
    },
    Erratum {
        pointer: "/paths/~1token/post/responses/200/content/application~1json/schema",
        correction: Correction::OneOfAsAnyOf,
        why: "OAuth token answers: `oneOf` the authorization-code and the client-credentials \
              shapes, which allow other properties, so an answer with a refresh token matches \
              both. `anyOf` is meant.",
    },
    Erratum {
        pointer: "/components/schemas/SignedDocumentResponseModel",
        correction: Correction::OneOfAsAnyOf,
        why: "`oneOf` a fully signed and a partially signed answer whose properties are all \
              optional and share `workflowId` and `title`: every answer matches both. \
              `anyOf` is meant.",
    },
];

/// Correct an official document (parsed) with [`ERRATA`], as the contract does before parsing
/// it; returns the errata that applied.
pub fn apply_errata(root: &mut Value) -> Vec<&'static Erratum> {
    correct(root, ERRATA)
}

/// Apply the errata whose spot still holds the mistake; returns them.
pub(super) fn correct(root: &mut Value, errata: &'static [Erratum]) -> Vec<&'static Erratum> {
    let text = |json: &str| -> Value { serde_json::from_str(json).expect("errata are JSON") };
    errata
        .iter()
        .filter(|e| {
            let Some(spot) = root.pointer_mut(e.pointer) else {
                return false;
            };
            match e.correction {
                Correction::Replace {
                    mistaken,
                    corrected,
                } => {
                    let applies = *spot == text(mistaken);
                    if applies {
                        *spot = text(corrected);
                    }
                    applies
                }
                Correction::OneOfAsAnyOf => {
                    let Some(schema) = spot.as_object_mut() else {
                        return false;
                    };
                    match schema.remove("oneOf") {
                        Some(branches) => {
                            schema.insert("anyOf".into(), branches);
                            true
                        }
                        None => false,
                    }
                }
            }
        })
        .collect()
}

/// A parameter that a server of its kind must accept although the document does not declare
/// it: not judged on that operation.
pub struct Tolerated {
    pub operation: &'static str,
    pub parameter: &'static str,
    pub why: &'static str,
}

const PKCE_WHY: &str = "PKCE (RFC 7636), which the host uses with every authorization code \
    grant; Ironclad does not document it, and an authorization server \"MUST ignore \
    unrecognized request parameters\" (RFC 6749, section 3.1).";

/// Undeclared parameters that are accepted.
pub const TOLERATED: &[Tolerated] = &[
    Tolerated {
        operation: "oauth-authorize",
        parameter: "code_challenge",
        why: PKCE_WHY,
    },
    Tolerated {
        operation: "oauth-authorize",
        parameter: "code_challenge_method",
        why: PKCE_WHY,
    },
];

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
        status: 400,
        applies: Undeclared::Everywhere,
        why: "a request the service refuses (MISSING_PARAM, INVALID_PARAM, INVALID_STATE) is \
              a 400 with Ironclad's error body across the API (its errors guide); 52 of 80 \
              operations declare it, and e.g. cancelling a completed workflow can only be \
              refused so (inferred for those that do not)",
    },
    UndeclaredStatus {
        status: 409,
        applies: Undeclared::Everywhere,
        why: "a write that would duplicate a unique value (a SCIM `userName`) is a 409 \
              (RFC 7644, section 3.3), and CONFLICT is in the Public API's error vocabulary; \
              Ironclad's SCIM document declares no 409",
    },
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
