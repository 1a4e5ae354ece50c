package keyvault_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"fmt"
	"hash"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azkeys"

	"github.com/azimuth-gitops/azimuth/azurelocal/keyvault"
)

var kidPattern = regexp.MustCompile(`^https://rbac-vault\.vault\.azure\.net/keys/sops/[0-9a-f]{32}$`)

// TestChallenge: a request without a token gets Key Vault's challenge, naming the vault's tenant;
// the SDK follows it, gets a token for that tenant and succeeds.
func TestChallenge(t *testing.T) {
	resp, e, _ := send(t, http.MethodPost, vaultURL(rbacVault)+"/keys/sops/encrypt?api-version="+keyvault.APIVersion, "", "")
	want := `Bearer authorization="https://login.microsoftonline.com/` + tenantID + `", resource="https://vault.azure.net"`
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") != want {
		t.Errorf("answer = %d, WWW-Authenticate %q; want 401, %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), want)
	}
	if e.Error.Code != "Unauthorized" || e.Error.Message != "AKV10000: Request is missing a Bearer or PoP token." {
		t.Errorf("body = %+v", e)
	}
	mark := local.log.Len()
	c := clientFor(t, cryptoUser, rbacVault)
	if _, err := c.Encrypt(t.Context(), "sops", "", azkeys.KeyOperationParameters{Algorithm: ptr(azkeys.EncryptionAlgorithmRSAOAEP256), Value: []byte("data key")}, nil); err != nil {
		t.Fatal(err)
	}
	recs := local.log.Since(mark, nil)
	if len(recs) != 2 || recs[0].Status != http.StatusUnauthorized || recs[0].Principal != "" ||
		recs[1].Status != http.StatusOK || recs[1].Operation != "encrypt" || recs[1].Principal != cryptoUser.objectID {
		t.Errorf("records = %+v, want a challenge and then the encryption", recs)
	}
}

// TestRoundTrips: encrypt/decrypt and wrap/unwrap with both OAEP algorithms, with the latest
// version and a named one, and a ciphertext made outside the vault with the key it publishes.
func TestRoundTrips(t *testing.T) {
	c := clientFor(t, cryptoUser, rbacVault)
	ctx := t.Context()
	plain := []byte("a 32-byte data key for sops.....")
	for _, alg := range []azkeys.EncryptionAlgorithm{azkeys.EncryptionAlgorithmRSAOAEP256, azkeys.EncryptionAlgorithmRSAOAEP} {
		t.Run(string(alg), func(t *testing.T) {
			enc, err := c.Encrypt(ctx, "sops", "", azkeys.KeyOperationParameters{Algorithm: &alg, Value: plain}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !kidPattern.MatchString(string(*enc.KID)) || len(enc.Result) != 256 {
				t.Fatalf("encrypt: kid %s, %d bytes", *enc.KID, len(enc.Result))
			}
			dec, err := c.Decrypt(ctx, "sops", enc.KID.Version(), azkeys.KeyOperationParameters{Algorithm: &alg, Value: enc.Result}, nil)
			if err != nil || !bytes.Equal(dec.Result, plain) {
				t.Fatalf("decrypt = %q, %v", dec.Result, err)
			}
			wrapped, err := c.WrapKey(ctx, "sops", "", azkeys.KeyOperationParameters{Algorithm: &alg, Value: plain}, nil)
			if err != nil {
				t.Fatal(err)
			}
			unwrapped, err := c.UnwrapKey(ctx, "sops", "", azkeys.KeyOperationParameters{Algorithm: &alg, Value: wrapped.Result}, nil)
			if err != nil || !bytes.Equal(unwrapped.Result, plain) {
				t.Fatalf("unwrap = %q, %v", unwrapped.Result, err)
			}
		})
	}
	key, err := c.GetKey(ctx, "SOPS", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !kidPattern.MatchString(string(*key.Key.KID)) || *key.Key.Kty != azkeys.KeyTypeRSA || key.Key.D != nil {
		t.Fatalf("GetKey = %s %v, private part %v", *key.Key.KID, *key.Key.Kty, key.Key.D != nil)
	}
	// Ciphertexts made outside the vault with the key it publishes, as OAEP defines each
	// algorithm, decrypt in it.
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(key.Key.N), E: int(new(big.Int).SetBytes(key.Key.E).Int64())}
	for alg, h := range map[azkeys.EncryptionAlgorithm]hash.Hash{azkeys.EncryptionAlgorithmRSAOAEP256: sha256.New(), azkeys.EncryptionAlgorithmRSAOAEP: sha1.New()} {
		outside, err := rsa.EncryptOAEP(h, rand.Reader, pub, plain, nil)
		if err != nil {
			t.Fatal(err)
		}
		dec, err := c.Decrypt(ctx, "sops", "", azkeys.KeyOperationParameters{Algorithm: &alg, Value: outside}, nil)
		if err != nil || !bytes.Equal(dec.Result, plain) {
			t.Errorf("%s: decrypt of a ciphertext made with the published key = %q, %v", alg, dec.Result, err)
		}
	}
}

// TestCreate: RSA keys of each size Key Vault makes, with their default operations, then a
// round trip with the largest.
func TestCreate(t *testing.T) {
	c := clientFor(t, officer, rbacVault)
	ctx := t.Context()
	for _, bits := range []int32{2048, 3072, 4096} {
		name := fmt.Sprint("size-", bits)
		created, err := c.CreateKey(ctx, name, azkeys.CreateKeyParameters{Kty: ptr(azkeys.KeyTypeRSA), KeySize: &bits}, nil)
		if err != nil {
			t.Fatal(err)
		}
		k := created.Key
		var ops []string
		for _, op := range k.KeyOps {
			ops = append(ops, string(*op))
		}
		if got := new(big.Int).SetBytes(k.N).BitLen(); got != int(bits) || k.KID.Name() != name ||
			!slices.Equal(ops, []string{"encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"}) || !*created.Attributes.Enabled {
			t.Errorf("created %s: %d bits, ops %v, %+v", *k.KID, got, ops, created.Attributes)
		}
		got, err := c.GetKey(ctx, name, k.KID.Version(), nil)
		if err != nil || *got.Key.KID != *k.KID {
			t.Errorf("GetKey(%s) = %v, %v", *k.KID, got.Key, err)
		}
	}
	enc, err := c.Encrypt(ctx, "size-4096", "", azkeys.KeyOperationParameters{Algorithm: ptr(azkeys.EncryptionAlgorithmRSAOAEP256), Value: []byte("x")}, nil)
	if err != nil || len(enc.Result) != 512 {
		t.Fatalf("encrypt with 4096 bits: %d bytes, %v", len(enc.Result), err)
	}
	dec, err := c.Decrypt(ctx, "size-4096", "", azkeys.KeyOperationParameters{Algorithm: ptr(azkeys.EncryptionAlgorithmRSAOAEP256), Value: enc.Result}, nil)
	if err != nil || string(dec.Result) != "x" {
		t.Fatalf("decrypt with 4096 bits = %q, %v", dec.Result, err)
	}
}

// TestListAndVersions: lists page by page through nextLink, in name order; versions list every
// version, and the latest is the one GetKey returns without a version.
func TestListAndVersions(t *testing.T) {
	c := clientFor(t, officer, pagingVault)
	ctx := t.Context()
	var want []string
	for i := 6; i >= 0; i-- {
		name := fmt.Sprint("page-", i)
		if _, err := c.CreateKey(ctx, name, azkeys.CreateKeyParameters{Kty: ptr(azkeys.KeyTypeRSA)}, nil); err != nil {
			t.Fatal(err)
		}
		want = append([]string{name}, want...)
	}
	var got []string
	pages := 0
	for pager := c.NewListKeyPropertiesPager(nil); pager.More(); pages++ {
		page, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range page.Value {
			if k.KID.Version() != "" {
				t.Errorf("a listed key ID has a version: %s", *k.KID)
			}
			got = append(got, k.KID.Name())
		}
	}
	if pages != 3 || !slices.Equal(got, want) {
		t.Errorf("listed %v in %d pages, want %v in 3", got, pages, want)
	}
	var versions []string
	for range 4 {
		k, err := c.CreateKey(ctx, "multi", azkeys.CreateKeyParameters{Kty: ptr(azkeys.KeyTypeRSA)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		versions = append(versions, k.Key.KID.Version())
	}
	var listed []string
	pages = 0
	for pager := c.NewListKeyPropertiesVersionsPager("multi", nil); pager.More(); pages++ {
		page, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range page.Value {
			listed = append(listed, k.KID.Version())
		}
	}
	if pages != 2 || !slices.Equal(listed, versions) {
		t.Errorf("versions %v in %d pages, want %v in 2", listed, pages, versions)
	}
	latest, err := c.GetKey(ctx, "multi", "", nil)
	if err != nil || latest.Key.KID.Version() != versions[3] {
		t.Errorf("latest = %v, %v; want version %s", latest.Key, err, versions[3])
	}
	if n := len(slices.Compact(slices.Sorted(slices.Values(versions)))); n != 4 {
		t.Errorf("versions repeat: %v", versions)
	}
}

// TestPersistence: keys live in the state directory, readable by their owner only, and a new
// server over it (a restart) serves the same keys.
func TestPersistence(t *testing.T) {
	c := clientFor(t, cryptoUser, rbacVault)
	key, err := c.GetKey(t.Context(), "sops", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(local.azure.StateDir(), keyvault.StateDir, rbacVault+".json")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", path, fi.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil || !bytes.Contains(data, []byte(key.Key.KID.Version())) {
		t.Fatalf("the store lacks version %s: %v", key.Key.KID.Version(), err)
	}
	created, err := clientFor(t, officer, rbacVault).CreateKey(t.Context(), "persisted", azkeys.CreateKeyParameters{Kty: ptr(azkeys.KeyTypeRSA)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	restarted, err := keyvault.New(local.azure.Directory(), local.azure.Entra().Verifier(), local.azure.StateDir())
	if err != nil {
		t.Fatal(err)
	}
	bearer := token(t, officer, "https://vault.azure.net/.default")
	for _, id := range []azkeys.ID{*key.Key.KID, *created.Key.KID} {
		req := httptest.NewRequest(http.MethodGet, vaultURL(rbacVault)+"/keys/"+id.Name()+"?api-version=7.4", nil)
		req.Header.Set("Authorization", "Bearer "+bearer)
		w := httptest.NewRecorder()
		restarted.ServeHTTP(w, req)
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"kid":"`+string(id)+`"`) {
			t.Errorf("after a restart: %d %s, want key %s", w.Code, w.Body, id)
		}
	}
}
