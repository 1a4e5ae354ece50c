package devenv

import "github.com/azimuth-gitops/azimuth/internal/identity"

func identityOptions(c Controllers) identity.Options {
	return identity.Options{
		ObjectLevelWorkloadIdentity: c.ObjectLevelWorkloadIdentity,
		LookupEnv: func(k string) (string, bool) {
			v, ok := c.Env[k]
			return v, ok
		},
	}
}
