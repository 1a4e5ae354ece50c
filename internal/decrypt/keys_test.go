package decrypt

import (
	"bytes"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

func TestParseKeys(t *testing.T) {
	k := newTestKeys(t)
	pq, err := age.GenerateHybridIdentity()
	if err != nil {
		t.Fatal(err)
	}
	second, _ := age.GenerateX25519Identity()
	var public bytes.Buffer
	w, _ := armor.Encode(&public, openpgp.PublicKeyType, nil)
	_ = k.pgp.Serialize(w)
	_ = w.Close()

	keys, err := ParseKeys("apps/sops-keys", map[string][]byte{
		"a.agekey":     []byte("# two identities\r\n" + k.age.String() + "\r\n\n  " + second.String() + "  \n"),
		"pq.agekey":    []byte(pq.String()),
		"team.asc":     append(append(k.secret["sops.asc"], '\n'), public.Bytes()...),
		"public.asc":   public.Bytes(),
		"sops.aws-kms": []byte("aws_access_key_id: ignored"),
		"README":       []byte("not a key"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if keys.Secret != "apps/sops-keys" || len(keys.Age) != 3 || len(keys.PGP) != 1 {
		t.Errorf("ParseKeys = %d age identities, %d OpenPGP keys", len(keys.Age), len(keys.PGP))
	}

	locked, _ := openpgp.NewEntity("locked", "", "locked@example.com", &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA})
	if err := locked.EncryptPrivateKeys([]byte("passphrase"), nil); err != nil {
		t.Fatal(err)
	}
	var lockedArmor bytes.Buffer
	w, _ = armor.Encode(&lockedArmor, openpgp.PrivateKeyType, nil)
	_ = locked.SerializePrivateWithoutSigning(w, nil)
	_ = w.Close()

	for name, tt := range map[string]struct {
		entry string
		value string
		want  string
	}{
		"empty age entry":   {"k.agekey", "# nothing\n\n", "entry 'k.agekey': holds no age identity"},
		"not an identity":   {"k.agekey", "# fine\nAGE-SECRET-KEY-1 in prose\n", "entry 'k.agekey': line 2 is not a valid age identity"},
		"a public key":      {"k.agekey", k.age.Recipient().String(), "entry 'k.agekey': line 1 is not an age identity"},
		"a plugin":          {"k.agekey", "AGE-PLUGIN-YUBIKEY-1QQQ", "line 1 is an age plugin identity, which Azimuth does not run"},
		"not armored":       {"k.asc", "-----BEGIN NOTHING", "entry 'k.asc': holds no ASCII-armored OpenPGP key"},
		"an armored other":  {"k.asc", "-----BEGIN PGP MESSAGE-----\n\nwy4ECQMI\n=AAAA\n-----END PGP MESSAGE-----\n", "entry 'k.asc': block 1 is"},
		"passphrase":        {"k.asc", lockedArmor.String(), "is protected by a passphrase, which Azimuth cannot enter"},
		"broken key packet": {"k.asc", brokenArmor(), "entry 'k.asc': block 1 is not a readable OpenPGP key"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseKeys("apps/sops-keys", map[string][]byte{tt.entry: []byte(tt.value)})
			if err == nil || !strings.Contains(err.Error(), "decryption secret 'apps/sops-keys', entry '"+tt.entry+"'") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func brokenArmor() string {
	var b bytes.Buffer
	w, _ := armor.Encode(&b, openpgp.PrivateKeyType, nil)
	_, _ = w.Write([]byte{0xc5, 0x05, 1, 2, 3, 4, 5})
	_ = w.Close()
	return b.String()
}

// FuzzParseKeys: any secret either parses or fails naming the entry and never quoting an age
// identity, and never panics.
func FuzzParseKeys(f *testing.F) {
	id, _ := age.GenerateX25519Identity()
	f.Add("k.agekey", id.String()+"\n# c\n")
	f.Add("k.agekey", "AGE-SECRET-KEY-1QQQQQ")
	f.Add("k.asc", brokenArmor())
	f.Add("k.asc", "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nxcA4BGd\n-----END PGP PRIVATE KEY BLOCK-----\n")
	f.Fuzz(func(t *testing.T, entry, value string) {
		keys, err := ParseKeys("ns/name", map[string][]byte{entry: []byte(value)})
		if err != nil {
			if !strings.Contains(err.Error(), "decryption secret 'ns/name', entry '"+entry+"'") {
				t.Errorf("err = %v: it does not name the entry", err)
			}
			for _, line := range strings.Split(value, "\n") {
				if line = strings.TrimSpace(line); strings.HasPrefix(line, "AGE-") && len(line) > 16 && strings.Contains(err.Error(), line) {
					t.Errorf("err = %v: it quotes the key material %q", err, line)
				}
			}
			return
		}
		for _, e := range keys.PGP {
			if e.PrivateKey == nil || locked(e) {
				t.Errorf("an unusable OpenPGP key was kept")
			}
		}
	})
}
