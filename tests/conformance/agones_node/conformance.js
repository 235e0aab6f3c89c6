// Conformance driver: a game server that calls every stable, alpha and beta method of
// the real Agones Node.js SDK (@google-cloud/agones-sdk, pinned in
// examples/agones-node/package-lock.json) against Muster. The C++ test
// (agones_node_sdk_test.cc) checks each effect through Muster's API.
//
// Protocol with the test, through files in $CONFORMANCE_DIR:
//   steps.jsonl  - one JSON line per finished step: {"step": name, ...what the SDK answered}
//   go-<name>    - created by the test when this driver may go on past a checkpoint
const fs = require('fs');
const path = require('path');
const AgonesSDK = require('@google-cloud/agones-sdk');

const dir = process.env.CONFORMANCE_DIR;
const report = (step, data = {}) =>
  fs.appendFileSync(path.join(dir, 'steps.jsonl'), JSON.stringify({ step, ...data }) + '\n');

// Polls `cond` every 20 ms; gives up (and fails the run) after `seconds`.
function until(cond, what, seconds = 30) {
  const deadline = Date.now() + seconds * 1000;
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (cond()) return resolve();
      if (Date.now() > deadline) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 20);
    };
    tick();
  });
}
const go = (name) => until(() => fs.existsSync(path.join(dir, `go-${name}`)), `go-${name}`, 120);

// Runs `f` and answers {code, details} of the gRPC error it must raise.
async function refused(f) {
  try {
    await f();
  } catch (err) {
    return { code: err.code, details: err.details };
  }
  return { code: 0, details: 'not refused' };
}

async function main() {
  const sdk = new AgonesSDK();
  await sdk.connect();

  // Every GameServer the watch delivers, in order.
  const watched = [];
  sdk.watchGameServer((gs) => watched.push(gs), () => {});
  const stateSeen = (state, from = 0) => watched.slice(from).some((gs) => gs.status.state === state);

  // Health: one client stream, a ping every 200 ms.
  const pings = setInterval(() => sdk.health(() => {}), 200);
  sdk.health(() => {});

  // ---- stable: metadata
  await sdk.setLabel('mode', 'ranked');
  await sdk.setAnnotation('note', 'hello from node');
  const badLabel = await refused(() => sdk.setLabel('has space', 'x'));

  // ---- alpha: players
  await sdk.alpha.setPlayerCapacity(3);
  const players = {
    connectP1: await sdk.alpha.playerConnect('p1'),
    connectP2: await sdk.alpha.playerConnect('p2'),
    connectP1Again: await sdk.alpha.playerConnect('p1'),
    disconnectP2: await sdk.alpha.playerDisconnect('p2'),
    disconnectNobody: await sdk.alpha.playerDisconnect('nobody'),
    capacity: await sdk.alpha.getPlayerCapacity(),
    count: await sdk.alpha.getPlayerCount(),
    isP1: await sdk.alpha.isPlayerConnected('p1'),
    isP2: await sdk.alpha.isPlayerConnected('p2'),
    connected: await sdk.alpha.getConnectedPlayers(),
  };

  // ---- beta: counters and lists (declared in the fleet template)
  await sdk.beta.incrementCounter('rooms', 3);
  await sdk.beta.decrementCounter('rooms', 1);
  await sdk.beta.setCounterCapacity('rooms', 20);
  await sdk.beta.setCounterCount('sessions', 7);
  await sdk.beta.appendListValue('maps', 'dust');
  await sdk.beta.appendListValue('maps', 'nuke');
  await sdk.beta.deleteListValue('maps', 'dust');
  await sdk.beta.setListCapacity('maps', 5);
  const beta = {
    roomsCount: await sdk.beta.getCounterCount('rooms'),
    roomsCapacity: await sdk.beta.getCounterCapacity('rooms'),
    sessionsCount: await sdk.beta.getCounterCount('sessions'),
    mapsCapacity: await sdk.beta.getListCapacity('maps'),
    mapsHasNuke: await sdk.beta.listContains('maps', 'nuke'),
    mapsHasDust: await sdk.beta.listContains('maps', 'dust'),
    mapsLength: await sdk.beta.getListLength('maps'),
    mapsValues: await sdk.beta.getListValues('maps'),
    overCapacity: await refused(() => sdk.beta.incrementCounter('rooms', 1000)),
    duplicate: await refused(() => sdk.beta.appendListValue('maps', 'nuke')),
    unknownCounter: await refused(() => sdk.beta.getCounterCount('nope')),
  };
  const gameServer = await sdk.getGameServer();
  report('edits', { badLabel, players, beta, gameServer });

  // ---- stable: lifecycle
  await sdk.ready();
  await until(() => stateSeen('Ready'), 'watch: Ready');
  report('ready');

  await go('reserve');
  const mark = watched.length;
  await sdk.reserve(3);
  report('reserved');
  await until(() => stateSeen('Reserved', mark), 'watch: Reserved');
  await until(() => stateSeen('Ready', mark + 1), 'watch: Ready after the reservation');
  report('reserve-expired', { states: watched.slice(mark).map((gs) => gs.status.state) });

  // A matchmaker allocates this server through Muster; the watch is how it learns.
  const beforeAllocation = watched.length;
  report('waiting-for-allocation');
  await until(() => stateSeen('Allocated', beforeAllocation), 'watch: Allocated', 60);
  const allocated = watched.slice(beforeAllocation).find((gs) => gs.status.state === 'Allocated');
  report('allocated-seen', { labels: allocated.objectMeta.labelsMap });

  await go('reuse');
  await sdk.ready(); // Allocated -> Ready: the match is over, take another
  report('ready-again');
  await go('self-allocate');
  await sdk.allocate();
  report('self-allocated');

  await go('shutdown');
  clearInterval(pings);
  await sdk.shutdown();
  report('shutdown');
  sdk.close();
}

main().catch((err) => {
  report('failed', { error: String(err && err.stack ? err.stack : err) });
  process.exit(1);
});
