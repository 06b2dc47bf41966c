/**
 * The "rest" connector: HTTP publish routes (`POST /notify/:room`) on their
 * own port. A request is a message: its JSON object body is `input`, path
 * params fill `input.<param>`, and the answer says how many connections the
 * event was queued to.
 *
 * @module
 */

import type { RestConnector } from "../config/schema.ts";
import { type Outcome, sendThrough } from "../core/flows/flows.ts";
import {
  type ConnectionInfo,
  headerOf,
  json,
  pathOf,
} from "../core/http/http.ts";
import { batchProblem, publishBatch } from "./batch.ts";
import { guardsConnections } from "../config/loopback.ts";
import { checkObject, readJson } from "./body.ts";
import { createTimeouts } from "../core/http/timeouts.ts";
import { errorMessage } from "../core/errors.ts";
import { acceptedBody, unavailableAnswer } from "./publish_answer.ts";
import { checkPublisher, createTokenCheck } from "./publisher_auth.ts";
import { answerPresence } from "./presence_api.ts";
import type { Presence } from "../presence/tracker.ts";
import { compileRoutes, findRoute, type Route } from "./route.ts";
import {
  countRejection,
  countRouted,
  type Source,
  type SourceContext,
  type SourceStats,
} from "./source.ts";

/** Creates a REST source serving the routes its flows name. */
export function createRestSource(
  name: string,
  connector: RestConnector,
  context: SourceContext,
  /** The SSE connectors' presence it answers (`GET /presence/...`). */
  presences: ReadonlyMap<string, Presence> = new Map(),
): Source {
  const compiled = compileRoutes(context.flows);
  // An empty token (an unset "${HYPHA_PUBLISH_TOKEN:-}") must never match
  // anything; checkConfig refuses a non-loopback source left without one.
  const tokens = connector.auth?.tokens.filter((t) => t !== "") ?? [];
  const checkToken = tokens.length > 0 ? createTokenCheck(tokens) : undefined;
  const counters: SourceStats = {
    received: 0,
    delivered: 0,
    filtered: 0,
    rejected: {},
  };

  // A body that does not come in time gets 408 (one timer for them all).
  const bodyDeadlines = createTimeouts<() => void>(
    connector.request_timeout,
    (expire) => expire(),
  );

  const reportBug = (error: unknown) =>
    context.log.error("publish failed", {
      connector: name,
      reason: errorMessage(error),
    });

  const refuse = (status: number, code: string, reason: string) => {
    countRejection(counters, code);
    return json(status, { error: reason });
  };

  const fetch = async (request: Request, info: ConnectionInfo) => {
    if (checkToken !== undefined) {
      const refusal = await checkPublisher(request, name, checkToken);
      if (refusal !== undefined) {
        countRejection(counters, "unauthorized");
        return refusal;
      }
    }
    const path = pathOf(request.url);
    const asked = answerPresence(request, path, presences);
    if (asked !== undefined) return asked;
    const hit = findRoute(compiled, request.method, path);
    if ("error" in hit) {
      if (hit.code !== undefined) countRejection(counters, hit.code);
      return json(hit.status, { error: hit.error }, hit.headers);
    }
    counters.received++;
    const body = await readJson(
      request,
      (header) => headerOf(request, info, header),
      connector.max_body,
      connector.request_timeout,
      bodyDeadlines,
    );
    if (!body.ok) {
      return refuse(body.status, `http_${body.status}`, body.reason);
    }
    const meta = requestMeta(request, path, hit.route.template);
    if (Array.isArray(body.value)) {
      const problem = batchProblem(body.value, connector.max_batch);
      if (problem !== undefined) return refuse(400, "bad_batch", problem);
      return await publishArray(body.value, hit, meta, counters, reportBug);
    }
    const object = checkObject(body.value);
    if (!object.ok) {
      return refuse(object.status, `http_${object.status}`, object.reason);
    }
    const input = { ...object.value, ...hit.params };
    return await publishOne(input, hit, meta, counters);
  };

  return {
    name,
    listener: {
      connector: name,
      host: connector.host,
      port: connector.port,
      path: compiled.length === 1 ? compiled[0].template.split(" ")[1] : "/",
      streaming: false,
      requestTimeoutMs: connector.request_timeout,
      maxPendingConnections: connector.max_pending_connections,
      connectionGuard: guardsConnections(connector),
      fetch,
    },
    start: () => Promise.resolve(),
    stop: () => {
      bodyDeadlines.close();
      return Promise.resolve();
    },
    stats: () => structuredClone(counters),
  };
}

type Hit = { readonly route: Route; readonly params: Record<string, string> };

/** `meta.*` of a publish request. */
function requestMeta(request: Request, path: string, route: string) {
  let headers: Record<string, string> | undefined;
  return {
    method: request.method,
    path,
    route,
    // Built only when a flow reads meta.headers: most never do.
    get headers() {
      return headers ??= Object.fromEntries(request.headers);
    },
  };
}

/** One message through the route's flows: 202, 422, or 503 when the log is away. */
async function publishOne(
  input: Record<string, unknown>,
  hit: Hit,
  meta: Record<string, unknown>,
  counters: SourceStats,
): Promise<Response> {
  let outcome: Outcome;
  try {
    outcome = await sendThrough(
      hit.route.flows,
      { input, meta },
      hit.route.template,
    );
  } catch (error) {
    const answer = unavailableAnswer(error);
    if (answer === undefined) throw error;
    countRejection(counters, "unavailable");
    return answer;
  }
  if (!outcome.ok) {
    countRejection(counters, outcome.code);
    return json(422, { error: outcome.reason });
  }
  countRouted(counters, outcome.flows);
  return json(
    202,
    outcome.flows === 0
      ? { delivered: 0, filtered: true }
      : acceptedBody(outcome, hit.route.flows),
  );
}

/** A batch: each element on its own; the answer says what became of each. */
async function publishArray(
  messages: unknown[],
  hit: Hit,
  meta: Record<string, unknown>,
  counters: SourceStats,
  reportBug: (error: unknown) => void,
): Promise<Response> {
  counters.received += messages.length - 1;
  const batch = await publishBatch(
    messages,
    hit.route.flows,
    hit.params,
    meta,
    hit.route.template,
    reportBug,
  );
  for (const r of batch.results) {
    if ("error" in r) countRejection(counters, r.error);
    else countRouted(counters, r.filtered ? 0 : 1);
  }
  return batch.response;
}
