/**
 * Mercure's publish: `POST` of an `application/x-www-form-urlencoded` form
 * (`topic` one or more times, `data`, `private`, `id`, `type`, `retry`) by a
 * publisher whose token's `mercure.publish` selectors match every topic.
 * Answers 200 `text/plain` with the update's id, as the reference hub does.
 *
 * @module
 */

import { BASE_HEADERS, text } from "../core/http/http.ts";
import type { Hub } from "../core/hub/hub.ts";
import {
  type MercureUpdate,
  parseRetry,
  publishUpdate,
  updateProblem,
} from "../core/flows/mercure_update.ts";
import { selectorMatches } from "../core/hub/topic_selector.ts";
import type { PublisherGrant } from "./authorizer.ts";

const FORM_TYPE = /^application\/x-www-form-urlencoded\s*(?:;|$)/i;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Reads the body up to `maxBytes`; a Response when it cannot be used. */
async function readForm(
  request: Request,
  maxBytes: number,
): Promise<URLSearchParams | Response> {
  const type = request.headers.get("content-type") ?? "";
  if (!FORM_TYPE.test(type)) {
    return text(
      415,
      `expected content-type application/x-www-form-urlencoded, got ${
        type === "" ? "none" : JSON.stringify(type)
      }`,
    );
  }
  const tooLarge = () => text(413, `body is larger than ${maxBytes} bytes`);
  if (Number(request.headers.get("content-length") ?? "0") > maxBytes) {
    return tooLarge();
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (request.body !== null) {
    for await (const chunk of request.body) {
      size += chunk.byteLength;
      if (size > maxBytes) return tooLarge();
      chunks.push(chunk);
    }
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  try {
    return new URLSearchParams(utf8.decode(bytes));
  } catch {
    return text(400, "body is not UTF-8");
  }
}

/** The update a form describes, or the 400 for what is wrong with it. */
export function formUpdate(form: URLSearchParams): MercureUpdate | Response {
  const retryText = form.get("retry");
  const retry = retryText === null ? undefined : parseRetry(retryText);
  if (retryText !== null && retry === undefined) {
    return text(400, "retry must be a number of milliseconds");
  }
  const update: MercureUpdate = {
    topics: form.getAll("topic"),
    data: form.get("data") ?? "",
    // Any value, the empty string included, makes it private.
    private: form.has("private"),
    id: form.get("id") ?? undefined,
    type: form.get("type") ?? undefined,
    retry,
  };
  const problem = updateProblem(update);
  return problem === undefined ? update : text(400, problem);
}

/** Publishes the request's update; `grant` is the publisher's. */
export async function publishForm(
  hub: Hub,
  request: Request,
  grant: PublisherGrant,
  maxBytes: number,
  cors: Readonly<Record<string, string>>,
): Promise<Response> {
  const form = await readForm(request, maxBytes);
  if (form instanceof Response) return form;
  const update = formUpdate(form);
  if (update instanceof Response) return update;
  // Every topic, canonical and alternate: one refused topic refuses all.
  const refused = update.topics.find((topic) =>
    !grant.allowed.some((selector) => selectorMatches(selector, topic))
  );
  if (refused !== undefined) {
    return text(
      403,
      `the token's mercure.publish claim does not allow topic ${
        JSON.stringify(refused.slice(0, 128))
      }`,
      cors,
    );
  }
  try {
    const { id } = await publishUpdate(hub, update);
    return new Response(id, {
      status: 200,
      headers: {
        ...BASE_HEADERS,
        ...cors,
        "content-type": "text/plain; charset=utf-8",
      },
    });
  } catch (error) {
    const retryAfter = (error as { retryAfterSeconds?: unknown })
      ?.retryAfterSeconds;
    if (typeof retryAfter !== "number") throw error;
    return text(503, "event log unavailable, retry later", {
      ...cors,
      "retry-after": String(retryAfter),
    });
  }
}
