-- Addresses an account has logged in from (IPv4 exactly, IPv6 by /64), written by sw-auth
-- on each successful login. A failed login from one of them counts against that address's
-- own bucket for the account, not the account-wide one, so strangers failing from
-- elsewhere cannot lock the owner out (OWASP's device-cookie idea, keyed on the address).
CREATE TABLE public.login_known_addresses (
    email       text NOT NULL,
    addr        text NOT NULL,
    last_login  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (email, addr)
);
CREATE INDEX login_known_addresses_last_idx ON public.login_known_addresses (last_login);

-- Only sw-auth reads and writes it (ops/README.md "Database roles").
GRANT SELECT, INSERT, UPDATE, DELETE ON public.login_known_addresses TO sw_auth;
