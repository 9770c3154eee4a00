package engine

// PasswordHashes is how many password hashes e has computed (set or
// verified): the cost a sign-in throttling test bounds.
func PasswordHashes(e *Engine) int64 { return e.console.hash.computed.Load() }
