#include "api/server_list.h"

#include <memory>

#include <spdlog/spdlog.h>

#include "api/responses.h"
#include "codec/gameserver_text.h"

namespace muster::api {
namespace {

// Servers a page: small enough that neither thread is held for long (about a
// millisecond of encoding), large enough that the hand-offs between them are few.
constexpr size_t kPageServers = 200;

// One listing in progress. Its steps alternate: the owner thread reads a page
// (Controller::ListGameServers), the connection's thread encodes and writes it, and
// when it has been written the next page is asked for. A client that goes away ends
// it: the sink then runs neither step.
class Listing : public std::enable_shared_from_this<Listing> {
 public:
  Listing(control::Controller& c, std::string fleet, std::shared_ptr<ChunkSink> sink)
      : c_(c), fleet_(std::move(fleet)), sink_(std::move(sink)) {}

  void Next() {
    c_.ListGameServers(fleet_, after_, kPageServers,
                       [self = shared_from_this()](core::StatusOr<control::ServerPage> page) {
                         if (!page.ok()) {  // the answer can only be cut short now
                           spdlog::error("listing game servers: {}", page.status().message());
                           return self->sink_->Abort();
                         }
                         self->Write(std::move(*page));
                       });
  }

 private:
  void Write(control::ServerPage page) {
    const bool more = page.more;
    sink_->WriteLater(
        [self = shared_from_this(), page = std::move(page)] {
          std::string text;
          if (self->after_.empty()) {
            text = R"({"apiVersion":")";
            text += core::kApiVersion;
            text += R"(","kind":"GameServerList","items":[)";
          }
          for (const core::GameServer& gs : page.servers) {
            if (!self->after_.empty()) text += ',';
            codec::AppendGameServerText(text, gs);
            self->after_ = gs.meta.name;
          }
          if (!page.more) text += "]}\n";
          return text;
        },
        [self = shared_from_this(), more] { more ? self->Next() : self->sink_->End(); });
  }

  control::Controller& c_;
  const std::string fleet_;
  const std::shared_ptr<ChunkSink> sink_;
  // The last server written; "" before the first. Steps run one at a time, each on
  // one thread, so this needs no lock.
  std::string after_;
};

}  // namespace

void StreamGameServerList(control::Controller& c, std::string fleet, const Reply& reply) {
  if (!reply.can_stream()) return reply(CannotStream());
  Response head{http::status::ok, 11};
  head.set(http::field::content_type, "application/json");
  reply.Stream(
      std::move(head),
      [&c, fleet = std::move(fleet)](std::shared_ptr<ChunkSink> sink) mutable {
        std::make_shared<Listing>(c, std::move(fleet), std::move(sink))->Next();
      },
      false);  // written without pause: a hang-up shows as a failed write
}

}  // namespace muster::api
