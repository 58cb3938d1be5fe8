package web

import "net/http"

// catchAllPattern receives every request no other route matches (404 and 405 pages).
const catchAllPattern = "/"

// routes is the site's URL space. GET routes render pages; POST routes change state and
// therefore parse a capped form body and check the CSRF token before their handler runs
// (see handle). Extensions add theirs through Options.Extensions.
func (s *Server) routes() {
	// Pages anyone can see.
	s.handle("GET /{$}", s.homePage)
	s.handle("GET /search", s.replaceable("GET /search", s.searchPage)) // the search extension replaces it
	s.handle("GET /c/{handle}", s.channelPage)

	// Accounts.
	s.handle("GET /signup", s.signupPage)
	s.handle("POST /signup", s.signup, limitedBy(s.signupLimiter, "signup"))
	s.handle("GET /login", s.loginPage)
	s.handle("POST /login", s.login, limitedBy(s.loginLimiter, "login"))
	s.handle("POST /logout", s.logout, loggedIn)
	s.handle("GET /verify", s.verifyPage)
	s.handle("POST /verify", s.verify)
	s.handle("POST /verify/resend", s.resendVerification, loggedIn, limitedBy(s.signupLimiter, "resend"))
	s.handle("GET /forgot", s.forgotPage)
	s.handle("POST /forgot", s.forgot, limitedBy(s.signupLimiter, "forgot"))
	s.handle("GET /reset", s.resetPage)
	s.handle("POST /reset", s.reset, limitedBy(s.loginLimiter, "reset"))

	// The logged-in user's own things.
	s.handle("GET /profile", s.profilePage, loggedIn)
	s.handle("POST /profile", s.updateProfile, verified)
	s.handle("POST /profile/avatar", s.uploadAvatar, verified, upload)
	s.handle("GET /channel", s.myChannel, loggedIn)
	s.handle("GET /settings/channel", s.channelSettingsPage, loggedIn)
	s.handle("POST /settings/channel", s.updateChannelSettings, verified)
	s.handle("POST /settings/channel/profile-image", s.uploadChannelProfileImage, verified, upload)
	s.handle("POST /settings/channel/banner", s.uploadChannelBanner, verified, upload)

	// JSON API.
	s.handle("GET /api/v1/channels/{handle}", s.apiChannel, asJSON)
	s.handle("GET /api/v1/me", s.apiMe, asJSON, loggedIn)

	// Files.
	s.mux.HandleFunc("GET /static/{file...}", s.serveAsset) // vendor/… files live one level down
	if s.opts.Blob != nil {
		s.mux.Handle("GET /media/", s.opts.Blob)
	}

	// Everything else: 404, or 405 when the path exists for another method.
	s.handle(catchAllPattern, s.notFoundOrMethod, unrouted)
}

func (s *Server) serveAsset(w http.ResponseWriter, r *http.Request) {
	if !s.assets.serve(w, r, r.PathValue("file")) {
		s.handle404(w, r)
	}
}

func (s *Server) handle404(w http.ResponseWriter, r *http.Request) {
	s.fail(w, r, errNotFound)
}
