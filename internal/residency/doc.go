// Package residency gives back to the kernel the pages of the executable that only the
// process's start touched.
//
// Go runs every package's init at start, and each init faults in the code and read-only data
// around it (the kernel maps 64 KiB around each fault). A binary that links Azure's, SOPS's,
// kustomize's and Kubernetes' packages thus has most of its 200 MiB file mapped after start, and
// its resident set counts them, although the controllers never run that code again. Release asks
// the kernel (MADV_PAGEOUT) to reclaim the clean, file-backed pages of the executable's
// read-only mappings; the pages a reconcile needs fault back in from the file. Nothing written
// by the process is dropped: MADV_PAGEOUT reclaims only what can be read back (a private page
// that was written would need swap, and stays).
//
// In docs/architecture.md's flow it sits outside the flow: `azimuth controller` calls it once,
// after the manager has started.
package residency
