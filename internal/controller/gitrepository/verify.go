package gitrepository

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/azimuth-gitops/azimuth/api/meta"
	sourcev1 "github.com/azimuth-gitops/azimuth/api/source/v1"
	"github.com/azimuth-gitops/azimuth/internal/controller/status"
	"github.com/azimuth-gitops/azimuth/internal/git"
)

// verify checks the signatures spec.verify asks for, before anything is stored: an artifact
// is built only from a commit (and tag) a trusted key signed. It sets SourceVerified either way.
func (r *Reconciler) verify(ctx context.Context, obj *sourcev1.GitRepository, checkout *git.Checkout, target git.Target) error {
	v := obj.Spec.Verification
	if v == nil {
		status.Remove(obj, sourcev1.SourceVerifiedCondition)
		return nil
	}
	data, err := r.Git.Secret(ctx, obj.Namespace, v.SecretRef.Name)
	if err != nil {
		return status.Fail("", sourcev1.VerificationErrorReason, fmt.Errorf("spec.verify.secretRef: %w", err))
	}
	keys := make([]string, 0, len(data))
	for _, name := range slices.Sorted(maps.Keys(data)) {
		keys = append(keys, string(data[name]))
	}
	keyRing := strings.Join(keys, "\n")
	mode := v.GetMode()
	var verified []string
	if mode == sourcev1.GitVerifyTag || mode == sourcev1.GitVerifyTagAndHEAD {
		id, err := checkout.VerifyTag(keyRing)
		if err != nil {
			return unverified(obj, err)
		}
		verified = append(verified, fmt.Sprintf("tag '%s' with key '%s'", target.Reference.Short(), id))
	}
	if mode == sourcev1.GitVerifyHEAD || mode == sourcev1.GitVerifyTagAndHEAD {
		id, err := checkout.VerifyCommit(keyRing)
		if err != nil {
			return unverified(obj, err)
		}
		verified = append(verified, fmt.Sprintf("commit '%s' with key '%s'", target.Hash, id))
	}
	status.MarkTrue(obj, sourcev1.SourceVerifiedCondition, meta.SucceededReason, "verified signature of "+strings.Join(verified, " and "))
	return nil
}

// unverified marks the signature check failed. It is retried: a signed commit may be pushed.
func unverified(obj *sourcev1.GitRepository, err error) error {
	msg := fmt.Errorf("signature verification failed: %w; check spec.verify.secretRef's keys, or push a commit signed by one of them", err)
	if !errors.Is(err, git.ErrUnsigned) {
		msg = fmt.Errorf("signature verification failed: %w", err)
	}
	status.MarkFalse(obj, sourcev1.SourceVerifiedCondition, sourcev1.VerificationErrorReason, msg.Error())
	return status.Fail("", sourcev1.VerificationErrorReason, msg)
}

// verifiedAs reports whether the stored artifact was verified as spec.verify asks now.
func verifiedAs(obj *sourcev1.GitRepository) bool {
	v, observed := obj.Spec.Verification, obj.Status.SourceVerificationMode
	if v == nil || observed == nil {
		return v == nil && observed == nil
	}
	return *observed == v.GetMode()
}
