//! Protocol 5 (Terraform 0.12 to 0.14, and later versions that prefer it): the adapter from `tfplugin5` messages
//! onto the provider core.

/// Code generated from `proto/tfplugin5.proto`.
pub mod pb {
    #![allow(missing_docs, clippy::all, clippy::pedantic)]
    tonic::include_proto!("tfplugin5");
}

super::adapter::provider_service!(pb::provider_server::Provider {
    async fn get_schema(
        &self,
        _request: Request<pb::get_provider_schema::Request>,
    ) -> Result<Response<pb::get_provider_schema::Response>, Status> {
        Ok(Response::new(provider_schema_out(self.server.provider_schema())))
    }

    /// Protocol 5 lets the provider rewrite its configuration here; we return it unchanged.
    async fn prepare_provider_config(
        &self,
        request: Request<pb::prepare_provider_config::Request>,
    ) -> Result<Response<pb::prepare_provider_config::Response>, Status> {
        let config = request.into_inner().config;
        let diags = self.server.validate_provider_config(dynamic_in(config.clone())).await;
        Ok(Response::new(pb::prepare_provider_config::Response {
            prepared_config: config,
            diagnostics: diagnostics_out(diags),
        }))
    }

    async fn validate_resource_type_config(
        &self,
        request: Request<pb::validate_resource_type_config::Request>,
    ) -> Result<Response<pb::validate_resource_type_config::Response>, Status> {
        let r = request.into_inner();
        let diags = self.server.validate_resource_config(&r.type_name, dynamic_in(r.config)).await;
        Ok(Response::new(pb::validate_resource_type_config::Response {
            diagnostics: diagnostics_out(diags),
        }))
    }

    async fn configure(
        &self,
        request: Request<pb::configure::Request>,
    ) -> Result<Response<pb::configure::Response>, Status> {
        let r = request.into_inner();
        let diags = self.server.configure_provider(&r.terraform_version, dynamic_in(r.config)).await;
        Ok(Response::new(pb::configure::Response {
            diagnostics: diagnostics_out(diags),
        }))
    }

    async fn stop(
        &self,
        _request: Request<pb::stop::Request>,
    ) -> Result<Response<pb::stop::Response>, Status> {
        let error = self.server.stop_provider().await.unwrap_or_default();
        Ok(Response::new(pb::stop::Response { error }))
    }
});

/// Protocol 5 has no way to send a plan's private data back at apply.
fn planned_private_in(_r: &mut pb::plan_resource_change::Request) -> Vec<u8> {
    Vec::new()
}

/// The protocol 5 gRPC service, with message limits raised for big schemas and plans.
pub fn service(server: Arc<dyn ProtocolServer>) -> pb::provider_server::ProviderServer<Adapter> {
    pb::provider_server::ProviderServer::new(Adapter::new(server))
        .max_decoding_message_size(crate::plugin::MAX_MESSAGE_BYTES)
        .max_encoding_message_size(crate::plugin::MAX_MESSAGE_BYTES)
}
