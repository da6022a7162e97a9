//! The contract's own tests, by rule; the helpers and the small document they share are here.

use super::*;
use axum::http::{HeaderValue, header};

use crate::infra::multipart;

mod answers;
mod committed;
mod multipart_parts;
mod requests;

/// A small document in the official one's style, exercising each rule.
const MINI: &str = r##"
openapi: 3.1.0
info: { title: mini, version: '1' }
servers:
- url: https://na1.example.com/public/api/v1
paths:
  /workflows:
    get:
      operationId: list-all-workflows
      parameters:
      - $ref: '#/components/parameters/XAsUserEmail'
      - $ref: '#/components/parameters/QueryPageSize'
      - name: status
        in: query
        schema:
          type: array
          items: { type: string, enum: [active, paused, completed, cancelled] }
      - name: hydrateEntities
        in: query
        schema: { type: boolean }
  /workflow-schemas:
    get:
      operationId: list-all-workflow-schemas
      parameters:
      - name: form
        in: query
        required: true
        schema: { type: string, enum: [launch] }
  /records/{id}:
    get:
      operationId: retrieve-a-record
      parameters:
      - name: id
        in: path
        required: true
        schema: { type: string }
    delete:
      operationId: delete-a-record
      parameters:
      - name: id
        in: path
        required: true
        schema: { type: string }
  /records/metadata:
    get:
      operationId: list-all-records-metadata
  /webhooks:
    post:
      operationId: create-a-webhook
      requestBody:
        content:
          application/json:
            schema:
              type: object
              properties:
                events:
                  type: array
                  minItems: 1
                  items: { $ref: '#/components/schemas/WebhookEvent' }
                targetURL: { type: string, format: https-url }
                note: { type: string, nullable: true }
              required: [events, targetURL]
  /records/{id}/attachments/{key}:
    post:
      operationId: create-an-attachment-on-a-record
      parameters:
      - { name: id, in: path, required: true, schema: { type: string } }
      - { name: key, in: path, required: true, schema: { type: string } }
      requestBody:
        required: true
        content:
          multipart/form-data:
            schema: { type: object }
  /workflows/{id}/upload-signed:
    post:
      operationId: workflow-upload-signed-document
      parameters:
      - { name: id, in: path, required: true, schema: { type: string } }
      requestBody:
        content:
          multipart/form-data:
            schema:
              type: object
              required: [attachment]
              properties:
                attachment: { type: object, format: binary }
                metadata:
                  type: object
                  properties:
                    signerRoleNames: { type: array, items: { type: string } }
                recordType: { type: string, enum: [imported, contract] }
            encoding:
              attachment: { contentType: application/pdf }
              metadata: { contentType: application/json }
  /workflows/launch-multipart:
    post:
      operationId: launch-multipart
      requestBody:
        content:
          multipart/form-data:
            schema:
              type: object
              additionalProperties: true
              properties:
                data: { type: object, required: [template] }
components:
  schemas:
    WebhookEvent:
      type: string
      enum: ['*', workflow_launched, workflow_completed]
  parameters:
    XAsUserEmail:
      name: x-as-user-email
      in: header
      required: false
      schema: { type: string }
    QueryPageSize:
      name: pageSize
      in: query
      schema: { type: integer, minimum: 1, maximum: 100 }
"##;

fn mini() -> Contract {
    Contract::from_yaml(MINI).unwrap()
}

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.append(*k, HeaderValue::from_str(v).unwrap());
    }
    h
}

fn judge(
    c: &Contract,
    method: &str,
    target: &str,
    hdrs: &[(&'static str, &str)],
    body: &str,
) -> Result<(), Violation> {
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (target, None),
    };
    c.check(&RequestParts {
        method,
        path,
        query,
        headers: &headers(hdrs),
        body: body.as_bytes(),
    })
}

const JSON: (&str, &str) = ("content-type", "application/json");

/// Judge a multipart request built from `(name, filename, content type, bytes)` parts.
fn judge_form(
    c: &Contract,
    target: &str,
    parts: &[multipart::PartSpec<'_>],
) -> Result<(), Violation> {
    let (boundary, body) = multipart::encode(parts);
    let content_type = format!("multipart/form-data; boundary={boundary}");
    c.check(&RequestParts {
        method: "POST",
        path: target,
        query: None,
        headers: &headers(&[("content-type", &content_type)]),
        body: &body,
    })
}
