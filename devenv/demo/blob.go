package demo

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/azimuth-gitops/azimuth/api/meta"
	sourcev1 "github.com/azimuth-gitops/azimuth/api/source/v1"
	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
	"github.com/azimuth-gitops/azimuth/internal/entra"
	"github.com/azimuth-gitops/azimuth/internal/identity"
	"github.com/azimuth-gitops/azimuth/internal/transport"
)

// The Blob Storage samples: the sample manifests (the same files as the OCI artifact's latest
// version) uploaded to the container BlobContainer of the directory's first storage account, as
// PushApplication (Storage Blob Data Contributor on the container, granted at run time, as a CI
// pipeline would hold it), and a Bucket (provider azure) of it in every tenant, as each tenant's
// identity: team-apps and team-node get Storage Blob Data Reader on the container at run time,
// flux-controller holds it on the account in the directory, team-denied holds none and must fail
// with BucketOperationFailed, and SecretsTenant reads it with the account key and with
// PushApplication's client secret.
const (
	// BlobContainer is the container of the sample manifests; the demo adds it to the storage
	// account before the local Azure starts.
	BlobContainer = "manifests"
	// BucketName names the tenants' Buckets (in SecretsTenant: BucketName-key and BucketName-app).
	BucketName = "manifests"
	// BlobReaderRole is the role a Bucket's identity needs; BlobWriterRole the uploader's.
	BlobReaderRole = "Storage Blob Data Reader"
	BlobWriterRole = "Storage Blob Data Contributor"
	// AccountKeySecret and BlobAppSecret are SecretsTenant's Bucket secrets: accountKey, and
	// PushApplication's tenantId, clientId and clientSecret.
	AccountKeySecret = "blob-key"
	BlobAppSecret    = "blob-app"
)

// lookupStorage is the first storage account of d; its name is empty when d has none.
func lookupStorage(d *directory.Directory) directory.StorageAccount {
	if accounts := d.StorageAccounts(); len(accounts) > 0 {
		return accounts[0]
	}
	return directory.StorageAccount{}
}

// blobEndpoint is the account's Blob service in the public cloud.
func blobEndpoint(account string) string { return "https://" + account + ".blob.core.windows.net" }

// containerScope is the ARM ID of the container BlobContainer, the scope of the roles the demo
// grants.
func containerScope(sa directory.StorageAccount) string {
	return sa.ID() + "/blobServices/default/containers/" + BlobContainer
}

// withBlobSamples returns d with the container BlobContainer in its first storage account, which
// the local Azure creates (private) as it starts. A directory without a storage account, or whose
// account has the container already, is returned as it is.
func withBlobSamples(d *directory.Directory) (*directory.Directory, error) {
	spec := d.Spec()
	accounts := spec.Resources.StorageAccounts
	if len(accounts) == 0 || slices.Contains(accounts[0].Containers, BlobContainer) {
		return d, nil
	}
	accounts[0].Containers = append(accounts[0].Containers, BlobContainer)
	extended, err := directory.New(spec)
	if err != nil {
		return nil, fmt.Errorf("adding the container %s to the storage account %s: %w", BlobContainer, accounts[0].Name, err)
	}
	return extended, nil
}

// blobGrants are the roles the Blob samples need on the container, beyond the directory's: the
// uploader's, and Storage Blob Data Reader for the identities of team-apps and the node.
func (s *System) blobGrants() []directory.RoleAssignment {
	scope := containerScope(s.names.storage)
	return []directory.RoleAssignment{
		{Principal: PushApplication, Role: BlobWriterRole, Scope: scope},
		{Principal: objectWITenant().identity, Role: BlobReaderRole, Scope: scope},
		{Principal: s.names.node.Name, Role: BlobReaderRole, Scope: scope},
	}
}

// uploadBlobs grants the Blob samples' roles, as `az role assignment create` would, and uploads
// the sample manifests to BlobContainer with the azblob SDK as PushApplication, as a pipeline
// running `az storage blob upload-batch --auth-mode login` would.
func (s *System) uploadBlobs(ctx context.Context) (string, error) {
	sa := s.names.storage
	if sa.Name == "" {
		return "no storage account in the directory", nil
	}
	dir := s.Env.Azure.Directory()
	granted := 0
	for _, ra := range s.blobGrants() {
		if hasAssignment(dir.Spec(), ra) {
			continue
		}
		if err := dir.AddRoleAssignment(ra); err != nil {
			return "", fmt.Errorf("granting %s to %s: %w", ra.Role, ra.Principal, err)
		}
		granted++
	}
	rt, err := transport.New(&s.Env.Transport)
	if err != nil {
		return "", err
	}
	defer rt.CloseIdleConnections()
	cred, err := entra.NewProvider(&entra.Options{Transport: &s.Env.Transport}).Credential(identity.Identity{
		Kind: identity.ClientSecret, Level: identity.ObjectLevel, TenantID: s.names.tenantID, ClientID: s.names.pushID,
		Secret: identity.Secret{ClientSecret: s.names.pushSecret}, Source: "the demo's blob upload",
	}, nil)
	if err != nil {
		return "", err
	}
	client, err := azblob.NewClient(blobEndpoint(sa.Name), cred, &azblob.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: &http.Client{Transport: rt}}})
	if err != nil {
		return "", err
	}
	files := manifests(s.names.registryHost(), latestManifests, s.sopsSecret)
	for _, name := range slices.Sorted(maps.Keys(files)) {
		if _, err := client.UploadBuffer(ctx, BlobContainer, name, []byte(files[name]), nil); err != nil {
			return "", fmt.Errorf("uploading %s to %s/%s as %s: %w", name, sa.Name, BlobContainer, PushApplication, err)
		}
	}
	return fmt.Sprintf("%s/%s: %s as %s, %s", sa.Name, BlobContainer, count(len(files), "blob"), PushApplication, count(granted, "role assignment")), nil
}

// bucket is a Bucket of BlobContainer in namespace.
func (s *System) bucket(namespace, name string) *sourcev1.Bucket {
	return &sourcev1.Bucket{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: sourcev1.BucketSpec{
			Provider:   sourcev1.AzureBucketProvider,
			Endpoint:   blobEndpoint(s.names.storage.Name),
			BucketName: BlobContainer,
			Interval:   metav1.Duration{Duration: sampleInterval},
		},
	}
}

// bucketSample is t's Bucket, with t's identity; the denied tenant's must fail, its identity
// holding no role on the container.
func (s *System) bucketSample(t tenant, id Identity) []sample {
	if s.names.storage.Name == "" {
		return nil
	}
	b := s.bucket(t.namespace, BucketName)
	if t.via == objectWI {
		b.Spec.ServiceAccountName = TenantServiceAccount
	}
	smp := sample{obj: b, identity: id}
	if t.denied {
		smp.failReason = sourcev1.BucketOperationFailedReason
	}
	return []sample{smp}
}

// secretBucketSamples are SecretsTenant's Buckets and their secrets: the account key, and
// PushApplication's client secret.
func (s *System) secretBucketSamples() ([]*corev1.Secret, []sample) {
	sa := s.names.storage
	if sa.Name == "" || len(sa.Keys) == 0 {
		return nil, nil
	}
	secret := func(name string, data map[string]string) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: SecretsTenant, Name: name}, StringData: data}
	}
	withSecret := func(name, secret string) *sourcev1.Bucket {
		b := s.bucket(SecretsTenant, name)
		b.Spec.SecretRef = &meta.LocalObjectReference{Name: secret}
		return b
	}
	secrets := []*corev1.Secret{
		secret(AccountKeySecret, map[string]string{"accountKey": sa.Keys[0]}),
		secret(BlobAppSecret, map[string]string{"tenantId": s.names.tenantID, "clientId": s.names.pushID, "clientSecret": s.names.pushSecret}),
	}
	samples := []sample{
		{obj: withSecret(BucketName+"-key", AccountKeySecret), identity: Identity{Method: "account key", Principal: sa.Name + " (secret " + AccountKeySecret + ")"}},
		{obj: withSecret(BucketName+"-app", BlobAppSecret), identity: Identity{Method: "client secret", Principal: PushApplication + " (secret " + BlobAppSecret + ")", ClientID: s.names.pushID}},
	}
	return secrets, samples
}

// bucketProblem says what is wrong with a Ready Bucket: it must hold an artifact.
func bucketProblem(b *sourcev1.Bucket) string {
	if b.Status.Artifact == nil || !strings.HasPrefix(b.Status.Artifact.Revision, "sha256:") {
		return "want an artifact of the container " + b.Spec.BucketName
	}
	return ""
}
