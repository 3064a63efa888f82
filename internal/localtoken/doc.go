// Package localtoken stands in for Microsoft Entra ID in tests of the
// Entra path against the local emulators: an Issuer signs access tokens
// (JWS compact serialisation, HS256) with a secret it shares with the
// emulators, and verifies them (signature, alg, issuer, audience, expiry,
// not-before). The Batch emulator accepts Bearer tokens and the Service
// Bus emulator "jwt" put-tokens only when started with such a secret
// (--token-key-file); by default both refuse them.
//
// It deliberately is no identity provider: no OAuth endpoint, no users,
// no RBAC. The local stack itself authenticates with Shared Key and SAS,
// so nothing in it needs tokens; an Issuer is also an
// azcore.TokenCredential, which is how tests hand it to the real clients.
package localtoken
