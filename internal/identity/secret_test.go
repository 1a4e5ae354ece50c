package identity

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf16"
)

const (
	tenant   = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	clientID = "0b0c8f5e-6a3e-4c4e-8f2f-1b7f5e6d9a10"
	secretV  = "s3cr3t-value-that-must-never-leak"
)

func TestParseBucketSecret(t *testing.T) {
	pemCert, pfx := testCertificate(t, "pfx-pass")
	tests := []struct {
		name     string
		data     map[string]string
		wantKind Kind
		wantErr  string // substring; the key at fault must be named
		// wantStatic: a storage key or SAS, which package access reads.
		wantStatic bool
		check      func(t *testing.T, id Identity)
	}{
		{name: "client secret", data: map[string]string{"tenantId": tenant, "clientId": clientID, "clientSecret": secretV}, wantKind: ClientSecret,
			check: func(t *testing.T, id Identity) {
				if id.Secret.ClientSecret != secretV || id.TenantID != tenant || id.ClientID != clientID {
					t.Errorf("identity = %+v", id)
				}
			}},
		{name: "client secret wins over certificate", data: map[string]string{"tenantId": tenant, "clientId": clientID, "clientSecret": secretV, "clientCertificate": "junk"}, wantKind: ClientSecret},
		{name: "PEM certificate with chain", data: map[string]string{"tenantId": tenant, "clientId": clientID, "clientCertificate": string(pemCert), "clientCertificateSendChain": "TRUE"}, wantKind: ClientCertificate,
			check: func(t *testing.T, id Identity) {
				if !id.Secret.SendCertificateChain {
					t.Error("clientCertificateSendChain: \"TRUE\" was not read as true")
				}
			}},
		{name: "PKCS#12 with password", data: map[string]string{"tenantId": tenant, "clientId": clientID, "clientCertificate": string(pfx), "clientCertificatePassword": "pfx-pass"}, wantKind: ClientCertificate},
		{name: "PKCS#12 with a wrong password", data: map[string]string{"tenantId": tenant, "clientId": clientID, "clientCertificate": string(pfx), "clientCertificatePassword": "nope"}, wantErr: "key 'clientCertificate'"},
		{name: "not a certificate", data: map[string]string{"tenantId": tenant, "clientId": clientID, "clientCertificate": secretV}, wantErr: "key 'clientCertificate'"},
		{name: "bad send-chain flag", data: map[string]string{"tenantId": tenant, "clientId": clientID, "clientCertificate": string(pemCert), "clientCertificateSendChain": "yes"}, wantErr: "key 'clientCertificateSendChain'"},
		{name: "managed identity", data: map[string]string{"clientId": clientID}, wantKind: ManagedIdentity},
		{name: "authority host", data: map[string]string{"tenantId": tenant, "clientId": clientID, "clientSecret": secretV, "authorityHost": "https://login.microsoftonline.us/"}, wantKind: ClientSecret,
			check: func(t *testing.T, id Identity) {
				if id.AuthorityHost != "https://login.microsoftonline.us/" {
					t.Errorf("AuthorityHost = %q", id.AuthorityHost)
				}
			}},
		{name: "plain http authority", data: map[string]string{"clientId": clientID, "authorityHost": "http://login.example"}, wantErr: "key 'authorityHost'"},
		{name: "account key", data: map[string]string{"accountKey": secretV}, wantStatic: true},
		{name: "SAS", data: map[string]string{"sasKey": "?sv=2020&sig=" + secretV}, wantStatic: true},
		{name: "client secret before account key", data: map[string]string{"tenantId": tenant, "clientId": clientID, "clientSecret": secretV, "accountKey": secretV}, wantKind: ClientSecret},
		{name: "only authority host", data: map[string]string{"authorityHost": "https://login.microsoftonline.us/"}, wantErr: "only 'authorityHost'"},
		{name: "tenant without anything", data: map[string]string{"tenantId": tenant}, wantErr: "requires a 'clientId' or 'accountKey' field"},
		{name: "empty", data: map[string]string{}, wantErr: "requires a 'clientId'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := map[string][]byte{}
			for k, v := range tt.data {
				data[k] = []byte(v)
			}
			id, err := ParseBucketSecret("tenant-a", "azure-creds", data)
			if tt.wantStatic {
				if !errors.Is(err, ErrStaticCredential) {
					t.Fatalf("err = %v, want ErrStaticCredential", err)
				}
				assertNoLeak(t, err.Error())
				return
			}
			if tt.wantErr != "" {
				assertSecretError(t, err, tt.wantErr)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if id.Kind != tt.wantKind || id.Level != ObjectLevel || id.Namespace != "tenant-a" {
				t.Fatalf("Kind = %v, Level = %v, Namespace = %q; want %v, object level, tenant-a", id.Kind, id.Level, id.Namespace, tt.wantKind)
			}
			assertNoLeak(t, fmt.Sprintf("%v %+v %#v %s", id, id, id, id))
			if tt.check != nil {
				tt.check(t, id)
			}
		})
	}
}

func TestParseSOPSSecret(t *testing.T) {
	pemCert, pfx := testCertificate(t, "pw")
	pemJSON := strings.ReplaceAll(string(pemCert), "\n", `\n`)
	tests := []struct {
		name     string
		value    []byte
		wantKind Kind
		wantErr  string
		check    func(t *testing.T, id Identity)
	}{
		{name: "YAML client secret", value: []byte("tenantId: " + tenant + "\nclientId: " + clientID + "\nclientSecret: " + secretV + "\n"), wantKind: ClientSecret},
		{name: "JSON client secret", value: []byte(`{"tenantId":"` + tenant + `","clientId":"` + clientID + `","clientSecret":"` + secretV + `"}`), wantKind: ClientSecret},
		{name: "az CLI output", value: []byte(`{"appId":"` + clientID + `","displayName":"sops","password":"` + secretV + `","tenant":"` + tenant + `"}`), wantKind: ClientSecret,
			check: func(t *testing.T, id Identity) {
				if id.ClientID != clientID || id.TenantID != tenant || id.Secret.ClientSecret != secretV {
					t.Errorf("az CLI fields were not mapped: %+v", id)
				}
			}},
		{name: "certificate, unquoted bool", value: []byte(`{"tenantId":"` + tenant + `","clientId":"` + clientID + `","clientCertificate":"` + pemJSON + `","clientCertificateSendChain":true}`), wantKind: ClientCertificate,
			check: func(t *testing.T, id Identity) {
				if !id.Secret.SendCertificateChain {
					t.Error("send chain not read")
				}
			}},
		{name: "certificate, quoted bool", value: []byte(`{"tenantId":"` + tenant + `","clientId":"` + clientID + `","clientCertificate":"x","clientCertificateSendChain":"true"}`), wantErr: "'clientCertificateSendChain' must be a bool"},
		{name: "PKCS#12 needs its password", value: []byte("tenantId: a\nclientId: b\nclientCertificate: " + string(pfx[:0]) + "notacert\n"), wantErr: "field 'clientCertificate'"},
		{name: "managed identity", value: []byte("clientId: " + clientID), wantKind: ManagedIdentity},
		{name: "UTF-8 BOM", value: append([]byte{0xEF, 0xBB, 0xBF}, []byte("clientId: "+clientID)...), wantKind: ManagedIdentity},
		{name: "UTF-16 LE BOM", value: utf16Bytes("clientId: "+clientID, false), wantKind: ManagedIdentity},
		{name: "UTF-16 BE BOM", value: utf16Bytes("clientId: "+clientID, true), wantKind: ManagedIdentity},
		{name: "nothing usable", value: []byte("tenantId: " + tenant), wantErr: "requires a 'clientId' field"},
		{name: "not YAML", value: []byte("clientSecret: " + secretV + "\n  : : [\n"), wantErr: "is not valid YAML or JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, ok, err := ParseSOPSSecret("tenant-a", "sops-keys", map[string][]byte{SOPSKey: tt.value, "identity.agekey": []byte("AGE-SECRET-KEY-1")})
			if !ok {
				t.Fatal("ok = false for a secret with sops.azure-kv")
			}
			if tt.wantErr != "" {
				assertSecretError(t, err, tt.wantErr)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if id.Kind != tt.wantKind {
				t.Fatalf("Kind = %v, want %v", id.Kind, tt.wantKind)
			}
			if tt.check != nil {
				tt.check(t, id)
			}
		})
	}
	if _, ok, err := ParseSOPSSecret("tenant-a", "age-only", map[string][]byte{"identity.agekey": []byte("x")}); ok || err != nil {
		t.Fatalf("a secret without sops.azure-kv: ok = %v, err = %v; want false, nil", ok, err)
	}
}

func assertSecretError(t *testing.T, err error, want string) {
	t.Helper()
	var se *SecretError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want a *SecretError", err)
	}
	if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "secret 'tenant-a/") {
		t.Fatalf("err = %q, want it to name the secret and contain %q", err, want)
	}
	assertNoLeak(t, err.Error())
}

func assertNoLeak(t *testing.T, s string) {
	t.Helper()
	for _, v := range []string{secretV, "BEGIN", "pfx-pass"} {
		if strings.Contains(s, v) {
			t.Fatalf("%q leaks secret material %q", s, v)
		}
	}
}

func utf16Bytes(s string, bigEndian bool) []byte {
	units := utf16.Encode([]rune(s))
	out := make([]byte, 2, 2+2*len(units))
	order := binary.AppendByteOrder(binary.LittleEndian)
	if bigEndian {
		order = binary.BigEndian
	}
	out = order.AppendUint16(out[:0], 0xFEFF)
	for _, u := range units {
		out = order.AppendUint16(out, u)
	}
	return out
}

func FuzzParseBucketSecret(f *testing.F) {
	f.Add("t", "c", "s", "", "", "", "")
	f.Add("", "c", "", "", "", "", "")
	f.Add("t", "c", "", "-----BEGIN CERTIFICATE-----\n", "pw", "true", "https://login.microsoftonline.us/")
	f.Fuzz(func(t *testing.T, tenantID, clientID, clientSecret, cert, password, chain, authority string) {
		data := map[string][]byte{"tenantId": []byte(tenantID), "clientId": []byte(clientID), "clientSecret": []byte(clientSecret),
			"clientCertificate": []byte(cert), "clientCertificatePassword": []byte(password), "clientCertificateSendChain": []byte(chain), "authorityHost": []byte(authority)}
		id, err := ParseBucketSecret("ns", "name", data)
		if err != nil {
			if len(clientSecret) > 8 && strings.Contains(err.Error(), clientSecret) {
				t.Fatalf("error leaks the client secret: %v", err)
			}
			return
		}
		if id.Kind == 0 || id.Level != ObjectLevel {
			t.Fatalf("accepted secret gave an incomplete identity: %+v", id)
		}
	})
}

func FuzzParseSOPSSecret(f *testing.F) {
	f.Add([]byte("clientId: x"))
	f.Add([]byte(`{"tenantId":"t","clientId":"c","clientSecret":"s"}`))
	f.Add(utf16Bytes("clientId: c", false))
	f.Add([]byte{0xFE, 0xFF, 0x00})
	f.Fuzz(func(t *testing.T, value []byte) {
		id, ok, err := ParseSOPSSecret("ns", "name", map[string][]byte{SOPSKey: value})
		if !ok {
			t.Fatal("ok = false with the key present")
		}
		if err == nil && (id.Kind == 0 || id.ClientID == "") {
			t.Fatalf("accepted entry gave an incomplete identity: %+v", id)
		}
	})
}
