// Package decrypt decrypts the SOPS documents of a Kustomization, as Flux's kustomize-controller
// does, with the real SOPS module (its stores, tree, AES cipher and MAC) and a key service of its
// own that runs in the process: age identities and OpenPGP private keys from the Kustomization's
// decryption secret, and Azure Key Vault keys through internal/azure/keyvault with the
// Kustomization's Entra credential.
//
// It sits between the Kustomization's build and its apply: the build passes the files of
// secretGenerator (files and envs) and patches through DecryptFile before kustomize reads them,
// and every object the build produced through DecryptObject; apply then sees plaintext. The
// plaintext stays in memory: nothing is written to disk, logged, or put in an error (SOPS's
// messages that quote a value are redacted, and SOPS's own loggers report errors only).
//
// A Decryptor lives for one reconcile. It gets the Azure credential (AzureCredential) only when a
// document names an azure_kv key, and caches each master key's decrypted data key, keyed by the
// encrypted copy, for its own life only.
//
// Flux facts matched (fluxcd/kustomize-controller internal/decryptor/decryptor.go, SOPS v3.13.3):
//   - keys: secret entries named *.agekey (age identities, one per line, # comments) and *.asc
//     (armored OpenPGP keys); sops.azure-kv is the Azure identity, read by internal/access;
//   - an object is a SOPS document when it has sops.mac; it is decrypted whole as JSON, whatever
//     its kind; objects annotated kustomize.toolkit.fluxcd.io/decrypt: disabled are left alone;
//   - a Secret's data values that are SOPS documents are found by marker (YAML `mac: ENC[`,
//     JSON and binary `"mac": "ENC[`, dotenv `sops_mac=ENC[`, INI `[sops]`) and written in the
//     format of the data key's extension (.yaml/.yml, .json/.dockerconfigjson, .env, .ini, else
//     binary); values that are not base64 are skipped;
//   - before the build, secretGenerator files take the format of their key's extension (the
//     part before "=", else the file's name), envs files the format of their path with dotenv for
//     binary, and local patch files the format of their path; a file without its format's marker
//     is left as it is, and files above 5 MiB are refused;
//   - master keys are tried in SOPS's order (age, then OpenPGP, then the rest), key groups and
//     Shamir thresholds as SOPS does them;
//   - azure_kv: Key Vault's encrypt and decrypt operations with RSA-OAEP-256, the stored data
//     key base64url without padding (sops azkv/keysource.go); the key version may be empty.
//
// Differences from Flux, on purpose: the MAC is checked for files and Secret data values, which
// kustomize leaves byte for byte (Flux checks none; `sops decrypt` checks all), so a file modified
// after encryption fails with "MAC mismatch: the file was modified after encryption"; a whole
// object's MAC is not checked, as in Flux, since kustomize's transformers change objects after
// encryption. OpenPGP keys are used in memory with go-crypto, never with gpg or a GnuPG home.
//
// Not supported: AWS KMS, GCP KMS, HashiCorp Vault transit and HuaweiCloud KMS keys (and the
// secret entries sops.aws-kms, sops.gcp-kms, sops.vault-token), which fail with ErrUnsupportedKey
// naming the key; age plugin identities; passphrase-protected OpenPGP keys; Azure Managed HSM
// keys (*.managedhsm.azure.net); a controller-wide age secret for every Kustomization (Flux's
// WithSOPSAgeSecret), which a caller could add to Keys.Age.
package decrypt
