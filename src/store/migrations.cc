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
  };
  return kMigrations;
}

}  // namespace muster::store
