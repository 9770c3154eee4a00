-- licensekit pgstore schema, version 2: admin-console sessions.
--
-- Like refresh_families: keyed by (tenant_id, id), unique by id across
-- tenants (a presented session cookie resolves to its tenant by id), and
-- never deleted (a session ends by a status change or its expiry).

CREATE TABLE console_sessions (
    tenant_id text COLLATE "C" NOT NULL,
    id        text COLLATE "C" NOT NULL,
    data      jsonb NOT NULL,
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT console_sessions_id_unique UNIQUE (id)
);
