/**
 * Mercure tests: hub configs (one instance, or a cluster member on a
 * RabbitMQ stream beside an ordinary SSE connector), tokens with `mercure`
 * claims, a publisher that sends exactly what Symfony's Mercure component
 * sends, and the reference hub's conformance cases run in a browser page.
 */

import type { Page } from "playwright-core";
import type { ClusterNames } from "./cluster.ts";
import { SECRET, sign } from "./auth.ts";
import {
  type ConfigInput,
  type ConfigPart,
  flow,
  merge,
  rabbit,
  sse,
  throwawayTopology,
} from "./config_builder.ts";

/** The publisher key of the hubs below (its own, beside SECRET). */
export const PUBLISHER_SECRET = "mercure-publisher-secret-4b7e2a9c1d3f5e8a0b6c";

/** A Mercure connector "hub" with anonymous subscribers; `extra` merged in. */
export function mercureConfig(extra: ConfigPart = {}): ConfigInput {
  return merge<ConfigInput>({
    connector: {
      hub: sse({
        protocol: "mercure",
        retry: "200ms",
        auth: { jwt_secret: SECRET, anonymous: true },
        publisher_auth: { jwt_secret: PUBLISHER_SECRET },
        cors: { allowed_origins: ["*"], publish_origins: ["*"] },
      }),
    },
  }, extra);
}

/**
 * A cluster member: the hub's history on the RabbitMQ stream of `names`,
 * an ordinary SSE connector beside it, and RabbitMQ book updates
 * published to the hub.
 */
export function mercureClusterConfig(names: ClusterNames): ConfigInput {
  return mercureConfig({
    connector: {
      hub: { history: { store: "rabbit", stream: names.stream } },
      sse: sse(),
      rabbit: rabbit(
        merge(
          throwawayTopology(names.connection, names.exchange, names.queue),
          { reconnect_delay: "200ms" },
        ),
      ),
    },
    flow: {
      books: flow(
        { connector: "rabbit", operation: "book.updated" },
        {
          connector: "hub",
          operation: "publish",
          topic: ["input.topic", "https://example.com/books"],
          private: "input.private",
          id: "input.id",
          event: "input.type",
        },
      ),
    },
  });
}

/** A publisher token allowed `selectors` (default: every topic). */
export function publisherToken(selectors: string[] = ["*"]): Promise<string> {
  return sign(
    { mercure: { publish: selectors } },
    { key: new TextEncoder().encode(PUBLISHER_SECRET) },
  );
}

/** A subscriber token allowed private updates of `selectors`. */
export function subscriberToken(selectors: string[]): Promise<string> {
  return sign({ mercure: { subscribe: selectors } });
}

/** One update, as a publisher describes it. */
export interface Update {
  readonly topics: string[];
  readonly data?: string;
  readonly private?: boolean;
  readonly id?: string;
  readonly type?: string;
  readonly retry?: number;
}

/**
 * The body Symfony's Mercure component (Hub::publish) posts: its fields in
 * its order, `topic` repeated (http_build_query with the `[n]` removed),
 * `private=on`.
 */
export function symfonyBody(update: Update): string {
  const form = new URLSearchParams();
  for (const topic of update.topics) form.append("topic", topic);
  form.append("data", update.data ?? "");
  if (update.private) form.append("private", "on");
  if (update.id !== undefined) form.append("id", update.id);
  if (update.type !== undefined) form.append("type", update.type);
  if (update.retry !== undefined) form.append("retry", String(update.retry));
  return form.toString();
}

/** POSTs `update` to `hub` as Symfony does; returns status and body. */
export async function publishUpdate(
  hub: string,
  update: Update,
  token: string,
): Promise<{ status: number; body: string; type: string | null }> {
  const response = await fetch(hub, {
    method: "POST",
    headers: {
      "authorization": `Bearer ${token}`,
      "content-type": "application/x-www-form-urlencoded",
    },
    body: symfonyBody(update),
  });
  return {
    status: response.status,
    body: await response.text(),
    type: response.headers.get("content-type"),
  };
}

/** A conformance case of the reference hub (conformance-tests/). */
export interface ConformanceCase {
  readonly name: string;
  readonly updateTopics: string[];
  readonly topicSelectors: string[];
  readonly mustBeReceived: boolean;
  readonly private?: boolean;
}

const random = () => crypto.randomUUID().replaceAll("-", "");

/** The reference hub's published cases (its classic `topic` matcher). */
export function conformanceCases(): ConformanceCase[] {
  const r = Array.from({ length: 6 }, random);
  return [
    { name: "raw string", updateTopics: [r[0]], topicSelectors: [r[0]] },
    {
      name: "multiple topics",
      updateTopics: [random(), r[1]],
      topicSelectors: [r[1]],
    },
    {
      name: "multiple topic selectors",
      updateTopics: [r[2]],
      topicSelectors: ["foo", r[2]],
    },
    {
      name: "URI",
      updateTopics: [`https://example.net/foo/${r[3]}`],
      topicSelectors: [`https://example.net/foo/${r[3]}`],
    },
    {
      name: "URI template",
      updateTopics: [`https://example.net/foo/${r[4]}`],
      topicSelectors: ["https://example.net/foo/{random}"],
    },
  ].map((c) => ({ ...c, mustBeReceived: true })).concat([
    {
      name: "nonmatching raw string",
      updateTopics: ["will-not-match}"],
      topicSelectors: ["another-name"],
    },
    {
      name: "nonmatching URI",
      updateTopics: ["https://example.net/foo/will-not-match}"],
      topicSelectors: ["https://example.net/foo/another-name"],
    },
    {
      name: "nonmatching URI template",
      updateTopics: ["https://example.net/foo/will-not-match}"],
      topicSelectors: ["https://example.net/bar/{var}"],
    },
    {
      name: "private raw string",
      updateTopics: [r[0]],
      topicSelectors: [r[0]],
      private: true,
    },
    {
      name: "private URI",
      updateTopics: [`https://example.net/foo/${r[3]}`],
      topicSelectors: [`https://example.net/foo/${r[3]}`],
      private: true,
    },
    {
      name: "private URI template",
      updateTopics: [`https://example.net/foo/${r[4]}`],
      topicSelectors: ["https://example.net/foo/{random}"],
      private: true,
    },
  ].map((c) => ({ ...c, mustBeReceived: false })));
}

/** What the page saw of one case. */
export interface CaseResult {
  readonly received: boolean;
  readonly status: number;
  readonly contentType: string | null;
  readonly body: string;
}

/**
 * Runs `c` in `page`, as the reference suite does: an EventSource on
 * `subscribeUrl` with the case's selectors, then a POST of the update to
 * `publishUrl`. Instead of waiting 2 s for what must not come, the page
 * also subscribes to a marker topic and publishes to it after the update:
 * the hub's log is ordered, so once the marker is in, the update would be.
 */
export function runCase(
  page: Page,
  c: ConformanceCase,
  subscribeUrl: string,
  publishUrl: string,
  token: string,
): Promise<CaseResult> {
  return page.evaluate(async ({ c, subscribeUrl, publishUrl, token }) => {
    const marker = `marker-${crypto.randomUUID()}`;
    const url = new URL(subscribeUrl);
    for (const selector of c.topicSelectors) {
      url.searchParams.append("topic", selector);
    }
    url.searchParams.append("topic", marker);
    const id = `id-${JSON.stringify(c.updateTopics)}-${crypto.randomUUID()}`;
    const data = `data for\n\n        ${c.name}`;
    const es = new EventSource(url);
    let received = false;
    const markerSeen = new Promise<void>((resolve) => {
      es.onmessage = (e) => {
        if (e.lastEventId === id && e.data === data) received = true;
        if (e.data === marker) resolve();
      };
    });
    await new Promise((resolve) => es.onopen = resolve);
    const post = (form: URLSearchParams) =>
      fetch(publishUrl, {
        method: "POST",
        headers: { Authorization: `Bearer ${token}` },
        body: form,
      });
    const form = new URLSearchParams();
    for (const topic of c.updateTopics) form.append("topic", topic);
    form.set("id", id);
    form.set("data", data);
    if (c.private) form.set("private", "on");
    const response = await post(form);
    const body = await response.text();
    await post(new URLSearchParams({ topic: marker, data: marker }));
    await markerSeen;
    es.close();
    return {
      received,
      status: response.status,
      contentType: response.headers.get("content-type"),
      body: body === id ? "the update's id" : body,
    };
  }, { c, subscribeUrl, publishUrl, token });
}

/** Reads `response`'s stream until `count` events came; returns their text. */
export async function readEvents(response: Response, count: number) {
  const reader = response.body!.pipeThrough(new TextDecoderStream())
    .getReader();
  let text = "";
  while ((text.match(/\n\n/g) ?? []).length < count + 1) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  await reader.cancel();
  return text;
}
