package auth0

// SetPerPage makes device-credential pages small, so tests see the paging
// without thousands of credentials.
func SetPerPage(p *Provider, n int) { p.perPage = n }
