// The fake Slack of the tests (test/fakes/slack.ts) in its own process, for the chat scenarios:
//   node bench/slack.ts  → prints its port; SLACK_API_URL is http://127.0.0.1:<port>/api/
// Its token is the fakes' default. `dump` answers every chat.postMessage that succeeded (when it
// arrived, Date.now() on this machine, and its text and blocks) so the bench can match alerts to runs
// and build signed clicks from the buttons mend really posted.
import { startFakeSlack } from "../test/fakes/slack";
import { runChild } from "./child";

const slack = await startFakeSlack();
const port = Number(new URL(slack.url).port);
runChild(
  port,
  () => slack.close(),
  () => ({
    postMessage: slack.callsOf("chat.postMessage", true).length,
    update: slack.callsOf("chat.update", true).length,
    calls: slack.calls.length,
  }),
  () => ({
    token: slack.token,
    posts: slack.callsOf("chat.postMessage", true).map((c) => ({ at: c.at, answer: c.answer })),
  }),
);
