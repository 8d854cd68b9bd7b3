// Package auth holds the security primitives of tocsin: password hashing
// and policy, TOTP, recovery codes, random tokens, the at-rest key that seals
// TOTP secrets, and the sign-in back-off schedule.
//
// Everything here is pure: no database, no HTTP. The store keeps what these
// functions produce (hashes, sealed secrets, used TOTP steps) and httpserver
// decides when to call them. Each file answers one question.
package auth
