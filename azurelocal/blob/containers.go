package blob

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
)

// azuriteAPIVersion is the newest x-ms-version Azurite 3.35 knows, for the requests the local
// Azure itself sends it.
const azuriteAPIVersion = "2025-11-05"

// createContainers creates the containers the directory declares, private, signing each request
// with the account's first key as a client would. A container that exists already (Azurite keeps
// them across restarts with a location) is left as it is.
func (a *Azurite) createContainers(ctx context.Context, accounts []directory.StorageAccount) error {
	client := &http.Client{Transport: a.transport, Timeout: 30 * time.Second}
	for _, sa := range accounts {
		for _, c := range sa.Containers {
			if err := a.createContainer(ctx, client, sa, c); err != nil {
				return fmt.Errorf("blob: create container '%s' of storage account '%s' (resources.storageAccounts): %w", c, sa.Name, err)
			}
		}
	}
	return nil
}

func (a *Azurite) createContainer(ctx context.Context, client *http.Client, sa directory.StorageAccount, container string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, a.url+"/"+container+"?restype=container", nil)
	if err != nil {
		return err
	}
	account := strings.ToLower(sa.Name)
	req.Host = account + Suffix
	date := time.Now().UTC().Format(http.TimeFormat)
	req.Header.Set("x-ms-date", date)
	req.Header.Set("x-ms-version", azuriteAPIVersion)
	key, err := base64.StdEncoding.DecodeString(sa.Keys[0])
	if err != nil {
		return fmt.Errorf("keys[0] is not base64")
	}
	// Shared key: the verb, eleven empty standard headers (no body, so no Content-Length), the
	// x-ms- headers in order, and the canonicalized resource.
	toSign := "PUT" + strings.Repeat("\n", 12) +
		"x-ms-date:" + date + "\nx-ms-version:" + azuriteAPIVersion + "\n" +
		"/" + account + "/" + container + "\nrestype:container"
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(toSign))
	req.Header.Set("Authorization", "SharedKey "+account+":"+base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	switch {
	case resp.StatusCode == http.StatusCreated:
		return nil
	case resp.StatusCode == http.StatusConflict && resp.Header.Get(headerErrorCode) == "ContainerAlreadyExists":
		return nil
	}
	return fmt.Errorf("answer %s from Azurite: %s", resp.Status, body)
}
