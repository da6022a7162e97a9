//! The whole HTTP surface: every area's routes (`api`) behind the middleware (`infra`). The one
//! place that knows both layers, so neither has to import the other's routes.

use axum::Router;
use axum::middleware::from_fn_with_state;
use axum::routing::{any, get, post};

use crate::api::{
    async_launch, clickwrap, entities, exports, files, obligations, records, scim, search,
    webhooks, workflow_lifecycle, workflow_schemas, workflow_sign, workflows,
};
use crate::emulator::Emulator;
#[cfg(feature = "contract")]
use crate::infra::contract;
use crate::infra::{admin, auth, errors, faults, oauth, rate_limits, request_log};

impl Emulator {
    /// The whole HTTP surface, for serving or for driving in-process with `tower::ServiceExt`.
    pub fn router(&self) -> Router {
        // Everything that needs a bearer token, including unknown /public/api/v1 routes, which
        // answer 404 only after authentication (as Ironclad does).
        let authenticated = Router::new()
            .merge(workflows::routes())
            .merge(async_launch::routes())
            .merge(webhooks::routes())
            .merge(exports::routes())
            .merge(search::routes())
            .merge(workflow_schemas::routes())
            .merge(workflow_lifecycle::routes())
            .merge(workflow_sign::routes())
            .merge(records::routes())
            .merge(entities::routes())
            .merge(obligations::routes())
            .merge(files::routes())
            .route("/public/api/v1/oauth/userinfo", get(oauth::userinfo))
            .route("/oauth/userinfo", get(oauth::userinfo))
            .route("/oauth/company-info", get(oauth::company_info))
            .route("/public/api/v1", any(errors::api_not_found))
            .route("/public/api/v1/", any(errors::api_not_found))
            .route("/public/api/v1/{*rest}", any(errors::api_not_found))
            .method_not_allowed_fallback(errors::api_not_found)
            // Quotas are per company, so a request is counted only once its token says whose
            // it is: authentication runs first (the last layer added runs first), and a
            // request refused with 401 costs no quota.
            .route_layer(from_fn_with_state(self.clone(), rate_limits::enforce))
            .route_layer(from_fn_with_state(self.clone(), auth::authenticate));
        let app = Router::new()
            .route("/oauth/authorize", get(oauth::authorize))
            .route("/oauth/token", post(oauth::token))
            .merge(authenticated)
            .merge(scim::routes(self))
            .merge(scim::admin_routes())
            .merge(clickwrap::routes())
            .merge(admin::routes())
            .fallback(errors::not_found);
        #[cfg(feature = "contract")]
        let app = app
            .merge(contract::routes())
            .layer(from_fn_with_state(self.clone(), contract::enforce));
        app.merge(faults::routes())
            .layer(from_fn_with_state(self.clone(), faults::inject))
            .layer(from_fn_with_state(self.clone(), request_log::observe))
            .with_state(self.clone())
    }
}
