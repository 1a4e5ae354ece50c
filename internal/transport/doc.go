// Package transport builds the one HTTP, TLS and dial configuration that every Azimuth client
// uses: the Entra ID credentials, the registry, Git, Blob, Key Vault and Event Hubs clients.
//
// It sits under every arrow of DESIGN.md's flow that leaves the process. Production code names
// only production Azure hosts; two standard knobs decide where those names really lead:
//
//   - a connect-to map, like curl's --connect-to HOST:PORT:ADDR:PORT, which dials ADDR:PORT
//     whenever a client asks for HOST:PORT (the host may be a wildcard such as *.azurecr.io);
//   - the roots of trust for TLS: the system pool (which honours SSL_CERT_FILE) plus any extra
//     CA bundle.
//
// A per-object proxy (an object's proxySecretRef) replaces the environment's proxy settings.
package transport
