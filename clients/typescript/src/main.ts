// A frontend team's first program against learnweek: every call is typed from the committed
// OpenAPI document (`npm run gen` writes src/schema.d.ts), and every answer is checked.
//
//   LEARNWEEK_URL=http://127.0.0.1:8080 LEARNWEEK_TOKEN=<admin token> npm start
//
// Exits 1 on any unexpected answer.
import createClient from "openapi-fetch";
import type { components, paths } from "./schema.js";

type Schemas = components["schemas"];
type Event = Schemas["Event"];
type EventInput = Schemas["EventInput"];

const CAMPAIGN = "gaozhou-2014";

function fail(message: string): never {
  console.error(`FAIL: ${message}`);
  process.exit(1);
}

function check(condition: unknown, message: string): asserts condition {
  if (!condition) fail(message);
}

function env(name: string): string {
  const value = process.env[name];
  if (!value) fail(`${name} is not set`);
  return value;
}

/** The body of an answer that must have `status`; anything else ends the program. */
function expect<D, E>(what: string, r: { data?: D; error?: E; response: Response }, status = 200): D {
  if (r.response.status !== status || r.data === undefined) {
    fail(`${what}: expected ${status}, got ${r.response.status} ${JSON.stringify(r.error ?? r.data ?? null)}`);
  }
  return r.data;
}

const baseUrl = env("LEARNWEEK_URL").replace(/\/+$/, "");

// Media type `…json`: JSON bodies and problem+json errors, never the CSV variants.
function client(token: string) {
  return createClient<paths, `${string}/${string}json`>({
    baseUrl,
    headers: { Authorization: `Bearer ${token}` },
  });
}

const admin = client(env("LEARNWEEK_TOKEN"));

// (a) Who am I?
const me = expect("GET /auth/me", await admin.GET("/api/v1/auth/me"));
console.log(`me: sub=${me.sub} role=${me.role}`);
check(me.role === "admin", `LEARNWEEK_TOKEN must be an admin token, it is ${me.role}`);

// (b) The demo campaign, by its slug.
const campaign = expect(
  `GET /campaigns/${CAMPAIGN}`,
  await admin.GET("/api/v1/campaigns/{id}", { params: { path: { id: CAMPAIGN } } }),
);
console.log(`campaign: ${campaign.name} (${campaign.starts_on}..${campaign.ends_on}) id=${campaign.id}`);

// (c) Every event of the campaign, ten at a time, following next_cursor.
const events: Event[] = [];
let cursor: string | undefined;
let pages = 0;
do {
  const page = expect(
    "GET /events",
    await admin.GET("/api/v1/events", { params: { query: { campaign_id: campaign.id, limit: 10, cursor } } }),
  );
  check(page.items.length <= 10, `a page of limit 10 has ${page.items.length} items`);
  events.push(...page.items);
  cursor = page.next_cursor ?? undefined;
  check(++pages <= 100, "more than 100 pages: next_cursor never ends");
} while (cursor !== undefined);
const ids = new Set(events.map((e) => e.id));
console.log(`events: ${events.length} in ${pages} pages`);
check(events.length > 10, `expected more than one page of events, got ${events.length}`);
check(ids.size === events.length, `${events.length - ids.size} duplicate event ids across pages`);

// (d) An editor of a unit that hosts an event creates an event of that unit.
const hostEvent = events.find((e) => e.status !== "draft") ?? fail("no event to take a host unit from");
const unitId = hostEvent.host_unit_id;
const minted = expect(
  "POST /tokens",
  await admin.POST("/api/v1/tokens", {
    body: {
      name: `contract-editor-${Date.now()}`,
      role: "editor",
      unit_id: unitId,
      expires_at: new Date(Date.now() + 3600_000).toISOString(),
    },
  }),
  201,
);
check(minted.role === "editor" && minted.unit_id === unitId, "the minted token has another role or unit");
const editor = client(minted.token);

const input: EventInput = {
  campaign_id: campaign.id,
  title: "社区数字生活讲座（客户端示例）",
  kind: "lecture",
  starts_at: "2014-10-22T09:00:00+08:00",
  ends_at: "2014-10-22T11:00:00+08:00",
  host_unit_id: unitId,
  status: "published",
  visibility: "public",
  tags: ["示例"],
};
const created = await editor.POST("/api/v1/events", { body: input });
const event = expect("POST /events as editor", created, 201);
check(event.title === input.title, `title did not round-trip: ${event.title}`);
check(event.host_unit_id === unitId, "the created event has another host unit");
check(created.response.headers.get("Location")?.endsWith(event.id), "no Location naming the new event");
console.log(`created event ${event.id} as editor of unit ${unitId}`);

// (e) A bad event is a 422 naming each bad field.
const bad = await editor.POST("/api/v1/events", {
  body: { ...input, title: "", starts_at: "2014-10-22T11:00:00+08:00", ends_at: "2014-10-22T09:00:00+08:00" },
});
if (bad.error === undefined) fail(`an invalid event was accepted (${bad.response.status})`);
const fields = bad.error.errors?.map((e) => e.field) ?? [];
console.log(`invalid event: ${bad.error.status} ${bad.error.title}; fields: ${fields.join(", ")}`);
check(bad.response.status === 422 && bad.error.status === 422, `expected 422, got ${bad.response.status}`);
for (const field of ["title", "ends_at"]) check(fields.includes(field), `the 422 does not name ${field}`);

// (f) The report's figures.
const summary = expect(
  "GET /summary",
  await admin.GET("/api/v1/campaigns/{id}/summary", { params: { path: { id: CAMPAIGN } } }),
);
const p = summary.participants;
console.log(
  `summary: events ${summary.events.total} (lectures ${summary.events.by_kind["lecture"] ?? 0}), ` +
    `event headcount ${p.events.headcount}, training person-times ${p.trainings.person_times}, ` +
    `trained ${summary.trainings.completed}, coverage ${summary.coverage.reached}/${summary.coverage.areas}`,
);
check(summary.campaign_id === campaign.id, "the summary is of another campaign");
const nonDrafts = events.filter((e) => e.status !== "draft").length + 1; // + the event created above
check(summary.events.total === nonDrafts, `events.total is ${summary.events.total}, the list says ${nonDrafts}`);

// Clean up: the editor deletes its event, the admin revokes the token, which then stops working.
const deleted = await editor.DELETE("/api/v1/events/{id}", { params: { path: { id: event.id } } });
check(deleted.response.status === 204, `DELETE /events/{id}: ${deleted.response.status}`);
const revoked = await admin.DELETE("/api/v1/tokens/{id}", { params: { path: { id: minted.id } } });
check(revoked.response.status === 204, `DELETE /tokens/{id}: ${revoked.response.status}`);
const after = await editor.GET("/api/v1/auth/me");
check(after.response.status === 401, `a revoked token still works (${after.response.status})`);
console.log("OK");
