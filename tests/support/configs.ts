/** Config snippets for tests: everything on 127.0.0.1, port 0. */

/** The upstream sse example (REST publish routes + SSE), on free ports. */
export function restExample(sse: string = "", rest: string = ""): string {
  return `
[connector.sse]
type = "sse"
host = "127.0.0.1"
port = 0
${sse}

[connector.api]
type = "rest"
host = "127.0.0.1"
port = 0
${rest}

[flow.notify_all.from]
connector = "api"
operation = "POST /notify"
[flow.notify_all.to]
connector = "sse"
operation = "broadcast"

[flow.notify_room.from]
connector = "api"
operation = "POST /notify/:room"
[flow.notify_room.to]
connector = "sse"
operation = "send_to_room"
target = "input.room"

[flow.notify_user.from]
connector = "api"
operation = "POST /notify/user/:user_id"
[flow.notify_user.to]
connector = "sse"
operation = "send_to_user"
target = "input.user_id"
`;
}
