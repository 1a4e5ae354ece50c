package main

// Mozilla's root certificates, embedded for the container image: it is built from scratch and
// has no CA bundle (docs/image.md). Go uses these roots only when the system has none, so a run
// on a machine with its own roots, or with SSL_CERT_FILE or SSL_CERT_DIR set, is unchanged.
//
// A blank import, against the style's rule, because this package has no other interface: its
// init calls x509.SetFallbackRoots, which may be called once per process, from a binary only.
// Keep the module up to date (govulncheck reports a stale one): it is the image's trust store.
import _ "golang.org/x/crypto/x509roots/fallback"
