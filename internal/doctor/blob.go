package doctor

import (
	"context"
	"fmt"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/azimuth-gitops/azimuth/internal/azure/blob"
	"github.com/azimuth-gitops/azimuth/internal/entra"
)

// blobLink lists the Bucket's container with one result.
func (o Options) blobLink(ctx context.Context, cred *entra.Credential, t target) Link {
	ep, err := blob.ParseEndpoint(t.url, false)
	if err != nil {
		return Link{Name: "role", Detail: err.Error(), Fix: "fix spec.endpoint"}
	}
	if err := blob.CheckContainerName(t.bucket); err != nil {
		return Link{Name: "role", Detail: err.Error(), Fix: "fix spec.bucketName"}
	}
	hc, err := o.httpClient()
	if err != nil {
		return Link{Name: "role", Detail: err.Error()}
	}
	u := *ep.URL
	u.Path, u.RawQuery = u.Path+"/"+t.bucket, ""
	cc, err := container.NewClient(u.String(), cred, &container.ClientOptions{ClientOptions: azcore.ClientOptions{
		Transport: hc, Telemetry: policy.TelemetryOptions{ApplicationID: "azimuth-doctor"},
		Retry: policy.RetryOptions{MaxRetries: -1},
	}})
	if err != nil {
		return Link{Name: "role", Detail: err.Error()}
	}
	pager := cc.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{MaxResults: to.Ptr[int32](1)})
	if _, err = pager.NextPage(ctx); err == nil {
		return Link{Name: "role", OK: true, Detail: fmt.Sprintf("storage account %s lets it list container %s", ep.Account, t.bucket)}
	}
	return roleLink(blob.Explain(err, cred, ep.Account, t.bucket), "blob")
}
