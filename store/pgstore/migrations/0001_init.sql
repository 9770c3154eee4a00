-- licensekit pgstore schema, version 1.
--
-- Runs with search_path set to the store's schema, inside the migration
-- transaction (see migrate.go). Every tenant-owned table is keyed by
-- (tenant_id, id). Text keys use COLLATE "C" so that ORDER BY and the
-- cursor comparisons follow byte order, as the store contract requires,
-- whatever the database's default collation is. data holds the whole
-- record as JSON; the other columns mirror the fields that lookups,
-- uniqueness and filters need.

CREATE TABLE tenants (
    id   text COLLATE "C" NOT NULL PRIMARY KEY,
    data jsonb NOT NULL
);

CREATE TABLE users (
    tenant_id text COLLATE "C" NOT NULL,
    id        text COLLATE "C" NOT NULL,
    -- NULL when the user has no email: NULLs are never equal, so they are
    -- not indexed for uniqueness.
    email     text COLLATE "C",
    data      jsonb NOT NULL,
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT users_email_unique UNIQUE (tenant_id, email)
);

CREATE TABLE groups (
    tenant_id text COLLATE "C" NOT NULL,
    id        text COLLATE "C" NOT NULL,
    data      jsonb NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

-- Memberships, indexed both ways: by group (Members) and by user
-- (GroupsOf). Member users need not exist (the engine checks them), so
-- there is no foreign key to users; deletes of groups and users remove
-- their rows here in the same statement.
CREATE TABLE group_members (
    tenant_id text COLLATE "C" NOT NULL,
    group_id  text COLLATE "C" NOT NULL,
    user_id   text COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant_id, group_id, user_id)
);
CREATE INDEX group_members_by_user ON group_members (tenant_id, user_id, group_id);

CREATE TABLE products (
    tenant_id text COLLATE "C" NOT NULL,
    id        text COLLATE "C" NOT NULL,
    data      jsonb NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE plans (
    tenant_id  text COLLATE "C" NOT NULL,
    id         text COLLATE "C" NOT NULL,
    product_id text COLLATE "C" NOT NULL,
    data       jsonb NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX plans_by_product ON plans (tenant_id, product_id, id);

CREATE TABLE customers (
    tenant_id text COLLATE "C" NOT NULL,
    id        text COLLATE "C" NOT NULL,
    data      jsonb NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE licenses (
    tenant_id  text COLLATE "C" NOT NULL,
    id         text COLLATE "C" NOT NULL,
    -- Unique across tenants: LicenseByKeyDigest resolves a presented key
    -- to its tenant.
    key_digest bytea NOT NULL,
    data       jsonb NOT NULL,
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT licenses_key_digest_unique UNIQUE (key_digest)
);

CREATE TABLE user_tokens (
    tenant_id text COLLATE "C" NOT NULL,
    id        text COLLATE "C" NOT NULL,
    data      jsonb NOT NULL,
    PRIMARY KEY (tenant_id, id),
    -- Token IDs are unique across tenants (UserTokenByID).
    CONSTRAINT user_tokens_id_unique UNIQUE (id)
);

CREATE TABLE refresh_families (
    tenant_id text COLLATE "C" NOT NULL,
    id        text COLLATE "C" NOT NULL,
    data      jsonb NOT NULL,
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT refresh_families_id_unique UNIQUE (id)
);

CREATE TABLE audit_events (
    tenant_id text COLLATE "C" NOT NULL,
    id        text COLLATE "C" NOT NULL,
    time      timestamptz NOT NULL,
    type      text COLLATE "C" NOT NULL,
    token_id  text COLLATE "C" NOT NULL,
    data      jsonb NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
-- Prune deletes the oldest events first.
CREATE INDEX audit_events_by_time ON audit_events (tenant_id, time, id);
-- A token's events (AuditQuery.TokenID), in ID order.
CREATE INDEX audit_events_by_token ON audit_events (tenant_id, token_id, id);

CREATE TABLE usage_records (
    tenant_id text COLLATE "C" NOT NULL,
    token_id  text COLLATE "C" NOT NULL,
    data      jsonb NOT NULL,
    PRIMARY KEY (tenant_id, token_id)
);

CREATE TABLE quotas (
    tenant_id text COLLATE "C" NOT NULL,
    name      text COLLATE "C" NOT NULL,
    data      jsonb NOT NULL,
    PRIMARY KEY (tenant_id, name)
);
