// Package artifact stores the tarballs the source reconcilers produce and serves them over HTTP,
// the last step of DESIGN.md's flow for sources.
//
// An artifact is written whole or not at all: it is built in a temporary file beside its final
// name, synced, and renamed into place, so a reader never sees half an artifact and a crash
// leaves only a temporary file that the next garbage collection removes. Paths follow Flux's
// layout, KIND/NAMESPACE/NAME/FILE, and each object keeps its newest artifacts only.
//
// Archive makes an artifact of a directory. Repack makes one of an OCI layer in one pass, with
// no temporary tree: it checks every entry as the layer streams in (the safety rules, spec.ignore,
// and Limits on size and entries), and stores the layer's own bytes when nothing needs to
// change, else a rebuilt tarball. Copy stores a layer as it is, within Limits too. A layer stored
// as it is costs one decompression and no compression: its Writer syncs it while the checks
// finish, and takes the digest the registry's reader verified (Writer.Verified) rather than
// hashing it again.
package artifact
