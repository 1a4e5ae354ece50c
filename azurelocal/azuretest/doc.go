// Package azuretest is for tests only: the pieces that the tests of the local Azure and the
// engine's tests against it share, written once. It starts a local Azure over a test directory in
// a state directory of its own (Start, StartAzure) and serves the ACR, Key Vault and Blob
// emulators with a test's options in it (ServeACR, ServeKeyVault, ServeBlob); it stands in for an
// external OIDC issuer of federated tokens (Issuer), makes key pairs and certificates, self-signed
// or issued by a CA (NewKeyPair, NewCA), keeps an emulator's records (Recorder), moves time by
// hand (Clock), reads a token's claims without verifying them (Claims), and holds what a test
// binary starts once (Main, Lazy).
//
// In docs/architecture.md it sits on the test side, beside internal/testenv: the engine never
// imports it (internal/layers checks that), and like the emulators it imports nothing of the
// engine, so a test builds its own transport from the local Azure's ConnectTo and CAPool.
// Failures that only a broken random source or a programming error can cause panic, as
// httptest.NewServer's do, so the helpers serve TestMain as well as a test.
package azuretest
