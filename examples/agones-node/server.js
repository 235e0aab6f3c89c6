// A game server written for Agones, as a studio would write it: it uses the official
// Node.js SDK (@google-cloud/agones-sdk) and nothing of Muster's. Under Muster it runs
// unchanged: Muster sets AGONES_SDK_GRPC_PORT and AGONES_SDK_HTTP_PORT for it.
//
// What it does: answers UDP datagrams on its game port with "ECHO <text>", marks itself
// Ready, sends health pings, learns from WatchGameServer when a matchmaker allocated it,
// tracks players as clients say "JOIN <id>" / "LEAVE <id>", and shuts down when the
// match is over (the last player left, or MATCH_SECONDS passed).
const dgram = require('dgram');
const AgonesSDK = require('@google-cloud/agones-sdk');

// Muster passes each named port as MUSTER_PORT_<NAME>; in a Kubernetes Pod the game
// listens on its containerPort instead.
const port = Number(process.env.MUSTER_PORT_GAME || process.env.GAME_PORT || 7654);
const matchSeconds = Number(process.env.MATCH_SECONDS || 600);
const log = (...args) => console.log(new Date().toISOString(), ...args);

async function main() {
  const sdk = new AgonesSDK();
  await sdk.connect();
  log(`connected to the SDK on port ${sdk.port}`);

  let allocated = false;
  sdk.watchGameServer(
    (gs) => {
      if (gs.status.state === 'Allocated' && !allocated) {
        allocated = true;
        log(`allocated: ${JSON.stringify(gs.objectMeta.labelsMap)}`);
        setTimeout(() => endMatch('time is up'), matchSeconds * 1000);
      }
    },
    (err) => log('watch ended:', err.message));

  const pings = setInterval(() => sdk.health((err) => log('health ping failed:', err)), 2000);

  const socket = dgram.createSocket('udp4');
  socket.on('message', async (msg, from) => {
    const [verb, ...rest] = msg.toString().trim().split(' ');
    const arg = rest.join(' ');
    let answer = `ECHO ${msg.toString().trim()}`;
    try {
      if (verb === 'JOIN') answer = (await sdk.alpha.playerConnect(arg)) ? 'WELCOME' : 'ALREADY';
      if (verb === 'LEAVE') {
        await sdk.alpha.playerDisconnect(arg);
        answer = 'BYE';
        if (allocated && (await sdk.alpha.getPlayerCount()) === 0) endMatch('everyone left');
      }
    } catch (err) {
      answer = `ERROR ${err.details || err.message}`;
    }
    socket.send(answer + '\n', from.port, from.address);
  });
  socket.bind(port, () => log(`game port ${port}/udp`));

  async function endMatch(why) {
    log(`match over (${why}); shutting down`);
    clearInterval(pings);
    await sdk.shutdown();
  }

  await sdk.alpha.setPlayerCapacity(Number(process.env.MAX_PLAYERS || 16));
  await sdk.ready();
  log('ready');

  process.on('SIGTERM', () => {
    log('SIGTERM: bye');
    sdk.close();
    socket.close();
    process.exit(0);
  });
}

main().catch((err) => {
  log('fatal:', err);
  process.exit(1);
});
