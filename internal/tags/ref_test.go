package tags

import (
	"strings"
	"testing"
)

func TestRefSelector(t *testing.T) {
	digest := "sha256:" + strings.Repeat("ab", 32)
	repoTags := []string{"latest", "1.0.0", "1.1.0", "2.0.0-rc.1", "v1.2.0", "1.3.0-alpine", "1.4.0"}
	tests := []struct {
		name      string
		spec      RefSpec
		needsTags bool
		want      Ref
		wantErr   string // from NewRefSelector or Select
	}{
		{name: "nothing set: latest", want: Ref{Tag: "latest"}},
		{name: "tag", spec: RefSpec{Tag: "1.0.0"}, want: Ref{Tag: "1.0.0"}},
		{name: "semver beats tag", spec: RefSpec{Tag: "1.0.0", SemVer: ">=1.0.0"}, needsTags: true, want: Ref{Tag: "1.4.0"}},
		{name: "digest beats all", spec: RefSpec{Tag: "1.0.0", SemVer: ">=1.0.0", Digest: digest}, want: Ref{Digest: digest}},
		{name: "digest ignores a bad semver", spec: RefSpec{SemVer: "not a range", Digest: digest}, want: Ref{Digest: digest}},
		{name: "semver range", spec: RefSpec{SemVer: "~1.1"}, needsTags: true, want: Ref{Tag: "1.1.0"}},
		{name: "semver with v prefix", spec: RefSpec{SemVer: ">=1.2.0 <1.3.0"}, needsTags: true, want: Ref{Tag: "v1.2.0"}},
		{name: "semverFilter", spec: RefSpec{SemVer: ">=1.0.0-0", SemverFilter: ".*-alpine$"}, needsTags: true, want: Ref{Tag: "1.3.0-alpine"}},
		{name: "semverFilter keeps whole tag", spec: RefSpec{SemVer: ">=1.0.0", SemverFilter: "^1\\."}, needsTags: true, want: Ref{Tag: "1.4.0"}},
		{name: "prereleases need a prerelease range", spec: RefSpec{SemVer: ">=2.0.0-0"}, needsTags: true, want: Ref{Tag: "2.0.0-rc.1"}},
		{name: "no match", spec: RefSpec{SemVer: ">=3.0.0"}, needsTags: true, wantErr: `spec.ref.semver ">=3.0.0": no tag matches`},
		{name: "bad semver", spec: RefSpec{SemVer: "1.x.y.z"}, wantErr: "spec.ref.semver: semver range"},
		{name: "bad semverFilter", spec: RefSpec{SemVer: "*", SemverFilter: "("}, wantErr: `spec.ref.semverFilter "(" is not a valid regular expression`},
		{name: "bad tag", spec: RefSpec{Tag: "-x"}, wantErr: `spec.ref.tag "-x" is not a valid tag`},
		{name: "tag too long", spec: RefSpec{Tag: strings.Repeat("a", 129)}, wantErr: "is not a valid tag"},
		{name: "bad digest algorithm", spec: RefSpec{Digest: "md5:abc"}, wantErr: "write it as sha256:"},
		{name: "short digest", spec: RefSpec{Digest: "sha256:abc"}, wantErr: "needs 64 lower-case hex digits"},
		{name: "upper-case digest", spec: RefSpec{Digest: strings.ToUpper(digest)}, wantErr: "write it as sha256:"},
		{name: "sha512", spec: RefSpec{Digest: "sha512:" + strings.Repeat("0", 128)}, want: Ref{Digest: "sha512:" + strings.Repeat("0", 128)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := NewRefSelector(tt.spec)
			var got Ref
			if err == nil {
				if s.NeedsTags() != tt.needsTags {
					t.Errorf("NeedsTags = %v, want %v", s.NeedsTags(), tt.needsTags)
				}
				got, err = s.Select(repoTags)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, %v; want error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestRefString(t *testing.T) {
	if s := (Ref{Tag: "v1"}).String(); s != ":v1" {
		t.Errorf("tag ref = %q", s)
	}
	if s := (Ref{Tag: "v1", Digest: "sha256:x"}).String(); s != "@sha256:x" {
		t.Errorf("digest ref = %q", s)
	}
}
