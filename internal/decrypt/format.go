package decrypt

import (
	"bytes"
	"strings"

	"github.com/getsops/sops/v3"
	"github.com/getsops/sops/v3/config"
	"github.com/getsops/sops/v3/stores/dotenv"
	"github.com/getsops/sops/v3/stores/ini"
	"github.com/getsops/sops/v3/stores/json"
	"github.com/getsops/sops/v3/stores/yaml"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Format is how a SOPS document is written.
type Format int

// The formats SOPS writes.
const (
	YAML Format = iota + 1
	JSON
	Dotenv
	INI
	// Binary is any other file: SOPS stores it whole, encrypted, in a JSON document's data field.
	Binary
)

func (f Format) String() string {
	switch f {
	case YAML:
		return "YAML"
	case JSON:
		return "JSON"
	case Dotenv:
		return "dotenv"
	case INI:
		return "INI"
	case Binary:
		return "binary"
	}
	return "unknown"
}

// markers are what Flux looks for to tell that a document of a format is SOPS-encrypted: the
// start of its encrypted MAC, or the INI store's metadata section.
var markers = []struct {
	format Format
	marker []byte
}{
	// JSON first: a binary document is a JSON one, and reads the same.
	{JSON, []byte(`"mac": "ENC[`)},
	{YAML, []byte("mac: ENC[")},
	{Dotenv, []byte("sops_mac=ENC[")},
	{INI, []byte("[sops]")},
}

func marker(f Format) []byte {
	if f == Binary {
		f = JSON
	}
	for _, m := range markers {
		if m.format == f {
			return m.marker
		}
	}
	return nil
}

// IsEncrypted reports whether data is a SOPS document of format f: whether it holds f's marker
// (for YAML `mac: ENC[`, JSON and binary `"mac": "ENC[`, dotenv `sops_mac=ENC[`, INI `[sops]`),
// as Flux tells them.
func IsEncrypted(data []byte, f Format) bool {
	m := marker(f)
	return m != nil && bytes.Contains(data, m)
}

// DetectFormat tells the format of a SOPS document by its marker, for a Secret's data value of
// unknown origin; ok is false when data is not a SOPS document. A binary document is reported as
// JSON, which it is.
func DetectFormat(data []byte) (f Format, ok bool) {
	for _, m := range markers {
		if bytes.Contains(data, m.marker) {
			return m.format, true
		}
	}
	return 0, false
}

// FormatForPath is the format of a file by its name, as SOPS and Flux decide it: .yaml and .yml
// YAML, .json and .dockerconfigjson JSON, .env dotenv, .ini INI, any other binary. For a
// secretGenerator's files, pass the key the file is stored under (the part before "=", or the
// file's name), as Flux does.
func FormatForPath(path string) Format {
	switch {
	case strings.HasSuffix(path, ".yaml"), strings.HasSuffix(path, ".yml"):
		return YAML
	case strings.HasSuffix(path, ".json"), strings.HasSuffix(path, ".dockerconfigjson"):
		return JSON
	case strings.HasSuffix(path, ".env"):
		return Dotenv
	case strings.HasSuffix(path, ".ini"):
		return INI
	}
	return Binary
}

// FormatForEnvFile is the format of a secretGenerator's envs file: FormatForPath, with dotenv
// where that says binary, as Flux decides it.
func FormatForEnvFile(path string) Format {
	if f := FormatForPath(path); f != Binary {
		return f
	}
	return Dotenv
}

// IsEncryptedObject reports whether obj is a SOPS document: it has a sops field holding a
// non-empty mac, as Flux tells them.
func IsEncryptedObject(obj *unstructured.Unstructured) bool {
	if obj == nil {
		return false
	}
	mac, found, err := unstructured.NestedFieldNoCopy(obj.Object, "sops", "mac")
	if err != nil || !found || mac == nil {
		return false
	}
	s, isString := mac.(string)
	return !isString || s != ""
}

// store is SOPS's store for f, with SOPS's default settings.
func store(f Format) sops.Store {
	c := config.NewStoresConfig()
	switch f {
	case YAML:
		return yaml.NewStore(&c.YAML)
	case JSON:
		return json.NewStore(&c.JSON)
	case Dotenv:
		return dotenv.NewStore(&c.Dotenv)
	case INI:
		return ini.NewStore(&c.INI)
	}
	return json.NewBinaryStore(&c.JSONBinary)
}
