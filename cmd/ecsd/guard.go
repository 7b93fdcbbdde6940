package main

import (
	"fmt"
	"log/slog"
	"net"
	"os/user"
	"strings"

	"github.com/ecsd/ecsd/internal/server"
)

// guardConfig builds the request guard's configuration from the flags.
func guardConfig(listen, auth, credentials, allowedHosts string) (server.GuardConfig, error) {
	cfg := server.GuardConfig{Listen: listen, Auth: server.AuthMode(auth)}
	if cfg.Auth != server.AuthSigV4 && cfg.Auth != server.AuthNone {
		return cfg, fmt.Errorf("--auth %q: use sigv4 (requests must be signed) or none", auth)
	}
	creds, err := server.ParseCredentials(credentials)
	if err != nil {
		return cfg, fmt.Errorf("--credentials: %v; give ACCESS_KEY_ID:SECRET_ACCESS_KEY pairs separated by commas", err)
	}
	if len(creds) > 0 && cfg.Auth == server.AuthNone {
		return cfg, fmt.Errorf("--credentials and --auth none contradict each other: drop one")
	}
	cfg.Credentials = creds
	for h := range strings.SplitSeq(allowedHosts, ",") {
		if h = strings.TrimSpace(h); h != "" {
			cfg.AllowedHosts = append(cfg.AllowedHosts, h)
		}
	}
	return cfg, nil
}

// authSummary says in a few words which requests ecsd answers.
func authSummary(cfg server.GuardConfig) string {
	switch {
	case cfg.Auth == server.AuthNone:
		return "none (unsigned requests answered)"
	case len(cfg.Credentials) > 0:
		return fmt.Sprintf("sigv4, %d configured access keys", len(cfg.Credentials))
	}
	return "sigv4, any access key (signature not checked: set --credentials to check it)"
}

// warnExposure warns loudly when ecsd can be reached from other machines,
// or answers unsigned requests: whoever can call the API runs commands on
// this machine.
func warnExposure(logger *slog.Logger, addr net.Addr, cfg server.GuardConfig) {
	who := "the user running ecsd"
	if u, err := user.Current(); err == nil {
		who = "user " + u.Username
	}
	tcp, ok := addr.(*net.TCPAddr)
	if ok && !tcp.IP.IsLoopback() {
		msg := fmt.Sprintf("ecsd listens on %s, which is NOT a loopback address: anyone who can reach it can start tasks, "+
			"that is run any command, as %s on this machine. Requests travel unencrypted (plain HTTP).", addr, who)
		switch {
		case cfg.Auth == server.AuthNone:
			msg += " With --auth none NO signature is asked for: anyone at all can. Drop --auth none, set --credentials ACCESS_KEY_ID:SECRET (env ECSD_CREDENTIALS), or listen on 127.0.0.1."
		case len(cfg.Credentials) == 0:
			msg += " Any signed request is accepted, whatever its key: set --credentials ACCESS_KEY_ID:SECRET (env ECSD_CREDENTIALS) so that only holders of the secret are answered, or listen on 127.0.0.1."
		default:
			msg += " Only requests signed with the --credentials keys are answered; keep the secrets secret."
		}
		logger.Warn("WARNING: " + msg)
		return
	}
	if cfg.Auth == server.AuthNone {
		logger.Warn(fmt.Sprintf("WARNING: --auth none: ecsd answers unsigned requests, so any program on this machine can run commands through it as %s.", who))
	}
}
