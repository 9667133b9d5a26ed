/* /nix/var/nix/db/db.sqlite: Nix's store database, schema version 10 (Nix 2.3 and later; the
 * tables as Nix's src/libstore/schema.sql creates them). The only file that includes
 * sqlite3.h. Built in memory and serialized, so no journal or WAL file ever exists and the
 * bytes depend only on the closure and the SQLite version. See docs/formats/nix-db.md. */
#include "nix/nix.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/diag.h"
#include "util/xalloc.h"

/* The schema exactly as Nix 2.8 writes it into sqlite_master. */
static const char nix_db_schema[] =
	"PRAGMA page_size = 4096;\n"
	"CREATE TABLE ValidPaths (\n"
	"    id               integer primary key autoincrement not null,\n"
	"    path             text unique not null,\n"
	"    hash             text not null,\n"
	"    registrationTime integer not null,\n"
	"    deriver          text,\n"
	"    narSize          integer,\n"
	"    ultimate         integer, -- null implies \"false\"\n"
	"    sigs             text, -- space-separated\n"
	"    ca               text -- if not null, an assertion that the path is "
	"content-addressed; see ValidPathInfo\n"
	");\n"
	"CREATE TABLE Refs (\n"
	"    referrer  integer not null,\n"
	"    reference integer not null,\n"
	"    primary key (referrer, reference),\n"
	"    foreign key (referrer) references ValidPaths(id) on delete cascade,\n"
	"    foreign key (reference) references ValidPaths(id) on delete restrict\n"
	");\n"
	"CREATE INDEX IndexReferrer on Refs(referrer);\n"
	"CREATE INDEX IndexReference on Refs(reference);\n"
	"CREATE TRIGGER DeleteSelfRefs before delete on ValidPaths\n"
	"  begin\n"
	"    delete from Refs where referrer = old.id and reference = old.id;\n"
	"  end;\n"
	"CREATE TABLE DerivationOutputs (\n"
	"    drv  integer not null,\n"
	"    id   text not null, -- symbolic output id, usually \"out\"\n"
	"    path text not null,\n"
	"    primary key (drv, id),\n"
	"    foreign key (drv) references ValidPaths(id) on delete cascade\n"
	");\n"
	"CREATE INDEX IndexDerivationOutputs on DerivationOutputs(path);\n";

static void sqlite_closep(sqlite3 **db)
{
	if (*db)
		(void)sqlite3_close(*db);
}

static void stmt_finalizep(sqlite3_stmt **s)
{
	if (*s)
		(void)sqlite3_finalize(*s);
}

static int db_fail(sqlite3 *db, struct diag *d, const char *what)
{
	return diag_fail(d, -EIO, "Nix database: %s: %s", what, sqlite3_errmsg(db));
}

static int db_exec(sqlite3 *db, const char *sql, struct diag *d)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(db, d, sql);
	return 0;
}

/* "sha256:" + base16, as Nix stores narHash (Hash::to_string(Base16, true)). */
static void hash_format(const uint8_t h[NIX_HASH_LEN], char out[7 + 2 * NIX_HASH_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";

	memcpy(out, "sha256:", 7);
	for (size_t i = 0; i < NIX_HASH_LEN; i++) {
		out[7 + 2 * i] = hex[h[i] >> 4];
		out[7 + 2 * i + 1] = hex[h[i] & 15];
	}
	out[7 + 2 * NIX_HASH_LEN] = '\0';
}

/* Rows in path order, so ids are 1..n in the order of the sorted closure. */
static int db_insert_paths(sqlite3 *db, const struct nix_closure *c, struct diag *d)
{
	__attribute__((cleanup(stmt_finalizep))) sqlite3_stmt *st = NULL;
	char hash[7 + 2 * NIX_HASH_LEN + 1];

	if (sqlite3_prepare_v2(db,
			       "INSERT INTO ValidPaths (id, path, hash, registrationTime, deriver, "
			       "narSize) VALUES (?, ?, ?, ?, ?, ?);",
			       -1, &st, NULL) != SQLITE_OK)
		return db_fail(db, d, "prepare ValidPaths");
	for (size_t i = 0; i < c->n_paths; i++) {
		const struct nix_path *p = &c->paths[i];

		if (p->nar_size > INT64_MAX)
			return diag_fail(d, -EOVERFLOW, "%s: narSize too large", p->path);
		hash_format(p->nar_hash, hash);
		sqlite3_bind_int64(st, 1, (sqlite3_int64)(i + 1));
		sqlite3_bind_text(st, 2, p->path, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, hash, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 4, NIX_REGISTRATION_TIME);
		if (p->deriver)
			sqlite3_bind_text(st, 5, p->deriver, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, 5);
		sqlite3_bind_int64(st, 6, (sqlite3_int64)p->nar_size);
		if (sqlite3_step(st) != SQLITE_DONE)
			return db_fail(db, d, p->path);
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
	return 0;
}

static int db_insert_refs(sqlite3 *db, const struct nix_closure *c, struct diag *d)
{
	__attribute__((cleanup(stmt_finalizep))) sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(db, "INSERT INTO Refs (referrer, reference) VALUES (?, ?);", -1,
			       &st, NULL) != SQLITE_OK)
		return db_fail(db, d, "prepare Refs");
	for (size_t i = 0; i < c->n_paths; i++) {
		const struct nix_path *p = &c->paths[i];

		for (size_t k = 0; k < p->n_refs; k++) {
			sqlite3_bind_int64(st, 1, (sqlite3_int64)(i + 1));
			sqlite3_bind_int64(st, 2, (sqlite3_int64)(p->refs[k] + 1));
			if (sqlite3_step(st) != SQLITE_DONE)
				return db_fail(db, d, p->path);
			sqlite3_reset(st);
		}
	}
	return 0;
}

/* DerivationOutputs in primary-key order (drv id, output name). */
static int db_insert_drv_outputs(sqlite3 *db, const struct nix_closure *c, struct diag *d)
{
	static const char sql[] = "INSERT INTO DerivationOutputs (drv, id, path) VALUES (?, ?, ?);";
	__attribute__((cleanup(stmt_finalizep))) sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return db_fail(db, d, "prepare DerivationOutputs");
	for (size_t i = 0; i < c->n_paths; i++) {
		const struct nix_path *p = &c->paths[i];

		for (size_t k = 0; k < p->n_outputs; k++) {
			sqlite3_bind_int64(st, 1, (sqlite3_int64)(i + 1));
			sqlite3_bind_text(st, 2, p->outputs[k].name, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 3, p->outputs[k].path, -1, SQLITE_STATIC);
			if (sqlite3_step(st) != SQLITE_DONE)
				return db_fail(db, d, p->path);
			sqlite3_reset(st);
		}
	}
	return 0;
}

int nix_db_build(const struct nix_closure *c, struct diag *d, uint8_t **ret, size_t *ret_len)
{
	__attribute__((cleanup(sqlite_closep))) sqlite3 *db = NULL;
	sqlite3_int64 size = 0;
	unsigned char *bytes;
	uint8_t *out;
	int r;

	if (sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK)
		return diag_fail(d, -ENOMEM, "Nix database: cannot open an in-memory database");
	r = db_exec(db, nix_db_schema, d);
	if (r < 0)
		return r;
	r = db_exec(db, "BEGIN;", d);
	if (r < 0)
		return r;
	r = db_insert_paths(db, c, d);
	if (r < 0)
		return r;
	r = db_insert_refs(db, c, d);
	if (r < 0)
		return r;
	r = db_insert_drv_outputs(db, c, d);
	if (r < 0)
		return r;
	r = db_exec(db, "COMMIT;", d);
	if (r < 0)
		return r;
	/* compact and renumber pages so the file depends on the rows only */
	r = db_exec(db, "VACUUM;", d);
	if (r < 0)
		return r;
	bytes = sqlite3_serialize(db, "main", &size, 0);
	if (!bytes || size <= 0)
		return diag_fail(d, -EIO, "Nix database: cannot serialize: %s", sqlite3_errmsg(db));
	out = xmemdup(bytes, (size_t)size);
	sqlite3_free(bytes);
	*ret = out;
	*ret_len = (size_t)size;
	return 0;
}
