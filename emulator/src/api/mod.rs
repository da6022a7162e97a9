//! Ironclad's HTTP APIs by area: axum handlers and routes that check scopes, read requests,
//! call the stores (`store`) and answer in Ironclad's wire shapes and errors (`infra::errors`).

pub mod async_launch;
pub mod body;
pub mod catalog;
pub mod clickwrap;
pub mod entities;
pub mod exports;
pub mod files;
pub mod launch;
pub mod obligations;
pub mod pagination;
pub mod records;
pub mod scim;
pub mod search;
pub mod webhooks;
pub mod workflow_lifecycle;
pub mod workflow_schemas;
pub mod workflow_sign;
pub mod workflows;
