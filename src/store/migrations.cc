// The schema, as a list of migrations. Append only: never edit one that has shipped.
// docs/architecture.md#schema describes the result.
#include "store/sqlite_store.h"

namespace muster::store {

const std::vector<Migration>& Migrations() {
  static const std::vector<Migration> kMigrations = {
      {1, "objects table: one row per Fleet, GameServer and Node",
       "CREATE TABLE objects ("
       "  kind    TEXT    NOT NULL,"  // Fleet | GameServer | Node
       "  name    TEXT    NOT NULL,"
       "  version INTEGER NOT NULL,"  // optimistic concurrency; bumps on every write
       "  body    TEXT    NOT NULL,"  // the object as the API shows it (JSON)
       "  PRIMARY KEY (kind, name)"
       ") WITHOUT ROWID;"},
      {2, "spec column: the spec apart from metadata and status, so status writes stay small",
       "ALTER TABLE objects ADD COLUMN spec TEXT;"  // NULL for kinds without a spec
       "UPDATE objects SET spec = json_extract(body, '$.spec'), body = json_remove(body, '$.spec')"
       "  WHERE json_type(body, '$.spec') = 'object';"},
      {3, "specs table: specs out of the objects rows, so a status write rewrites a small row",
       "CREATE TABLE specs ("
       "  kind TEXT NOT NULL,"
       "  name TEXT NOT NULL,"
       "  spec TEXT NOT NULL,"  // JSON; written with the object, removed with it
       "  PRIMARY KEY (kind, name)"
       ") WITHOUT ROWID;"
       "INSERT INTO specs SELECT kind, name, spec FROM objects WHERE spec IS NOT NULL;"
       "ALTER TABLE objects DROP COLUMN spec;"},
  };
  return kMigrations;
}

}  // namespace muster::store
