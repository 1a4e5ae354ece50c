// Package setupcheck proves that what `azimuth setup` writes (internal/setup's golden files) is
// accepted by the tools users feed it to: Azure Service Operator v2 resources decode strictly
// into ASO's API shapes, Terraform/OpenTofu files parse with HashiCorp's HCL parser and name only
// resource types and arguments their providers document, and az scripts pass `bash -n`.
//
// It is a module of its own, imported by nothing: the main module does not carry HCL or ASO's
// dependency tree. `make test` runs its tests after the main module's.
//
// ASO's own Go module (github.com/Azure/azure-service-operator/v2) could not be used: the Go
// module proxy this project builds with answers 403 for every version of it, so its types and
// its CRD schemas (shipped in the same module zip) are out of reach. aso.go transcribes, field by
// field, the JSON shape of the ASO API versions the goldens use, from ASO's generated sources
// (v2/api/managedidentity/v1api20230131/federated_identity_credential_types_gen.go,
// v2/api/authorization/v1api20220401/role_assignment_types_gen.go, v2/pkg/genruntime's
// references), with the CRD's required fields, patterns and enums. Swap them for ASO's types
// when the module can be fetched.
package setupcheck
