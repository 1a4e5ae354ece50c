// Package inflate decompresses gzip (RFC 1952) and DEFLATE (RFC 1951) streams, for the
// layers an OCIRepository extracts: every byte of a layer passes through it while the
// archive is checked, so its speed is the pull's.
//
// It decodes what compress/flate decodes, byte for byte, and refuses what it refuses
// (FuzzInflate checks both against it). It is faster by design rather than by tricks of
// one input:
//   - the bit buffer is 64 bits wide and refilled 8 bytes at a time, without a branch per
//     byte, so that a length, its distance and their extra bits need one refill;
//   - a table entry carries a length's or a distance's base and extra bits, and a root
//     entry whose literal leaves room for a second literal's code holds both (runs of
//     literals decode two at a lookup);
//   - matches are copied 8 bytes at a time, runs by doubling;
//   - near the end of src, where 8 bytes cannot be read at once, symbols are decoded one
//     at a time, each checked to lie within the stream: a cut stream is always an error,
//     never a shorter one.
//
// Data after the last gzip member that is not gzip ends the stream (Reader.Trailing), as
// extraction has always treated it.
package inflate
