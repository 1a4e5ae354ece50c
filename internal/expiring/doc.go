// Package expiring is a bounded cache of values that expire, such as tokens, each fetched once
// however many callers ask for it at the same time.
//
// In DESIGN.md's flow it sits behind the credentials: internal/entra keeps Entra ID access tokens
// in it per identity and scopes, and internal/azure/acr keeps ACR refresh tokens per principal and
// registry. A Cache serves a value until a margin before its expiry, keeps at most a given number
// of values (the least recently used goes first), never keeps a failure, and runs one fetch per
// key at a time while fetches for other keys run in parallel. Its lock is never held during a
// fetch, so a hit never waits on another key's miss.
package expiring
