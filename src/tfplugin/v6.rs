//! Protocol 6 (Terraform 1.0+): the adapter from `tfplugin6` messages onto the provider core.

/// Code generated from `proto/tfplugin6.proto`.
pub mod pb {
    #![allow(missing_docs, clippy::all, clippy::pedantic)]
    tonic::include_proto!("tfplugin6");
}

super::adapter::provider_service!(pb::provider_server::Provider {
    async fn get_provider_schema(
        &self,
        _request: Request<pb::get_provider_schema::Request>,
    ) -> Result<Response<pb::get_provider_schema::Response>, Status> {
        Ok(Response::new(provider_schema_out(self.server.provider_schema())))
    }

    async fn validate_provider_config(
        &self,
        request: Request<pb::validate_provider_config::Request>,
    ) -> Result<Response<pb::validate_provider_config::Response>, Status> {
        let config = dynamic_in(request.into_inner().config);
        let diags = self.server.validate_provider_config(config).await;
        Ok(Response::new(pb::validate_provider_config::Response {
            diagnostics: diagnostics_out(diags),
        }))
    }

    async fn validate_resource_config(
        &self,
        request: Request<pb::validate_resource_config::Request>,
    ) -> Result<Response<pb::validate_resource_config::Response>, Status> {
        let r = request.into_inner();
        let diags = self.server.validate_resource_config(&r.type_name, dynamic_in(r.config)).await;
        Ok(Response::new(pb::validate_resource_config::Response {
            diagnostics: diagnostics_out(diags),
        }))
    }

    async fn configure_provider(
        &self,
        request: Request<pb::configure_provider::Request>,
    ) -> Result<Response<pb::configure_provider::Response>, Status> {
        let r = request.into_inner();
        let diags = self.server.configure_provider(&r.terraform_version, dynamic_in(r.config)).await;
        Ok(Response::new(pb::configure_provider::Response {
            diagnostics: diagnostics_out(diags),
        }))
    }

    async fn stop_provider(
        &self,
        _request: Request<pb::stop_provider::Request>,
    ) -> Result<Response<pb::stop_provider::Response>, Status> {
        let error = self.server.stop_provider().await.unwrap_or_default();
        Ok(Response::new(pb::stop_provider::Response { error }))
    }
});

/// The private data of the plan being applied, which Terraform 1.16 (protocol 6.11) sends back at apply.
fn planned_private_in(r: &mut pb::plan_resource_change::Request) -> Vec<u8> {
    std::mem::take(&mut r.planned_private)
}

/// The protocol 6 gRPC service, with message limits raised for big schemas and plans.
pub fn service(server: Arc<dyn ProtocolServer>) -> pb::provider_server::ProviderServer<Adapter> {
    pb::provider_server::ProviderServer::new(Adapter::new(server))
        .max_decoding_message_size(crate::plugin::MAX_MESSAGE_BYTES)
        .max_encoding_message_size(crate::plugin::MAX_MESSAGE_BYTES)
}
