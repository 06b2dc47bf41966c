/**
 * Publishes one JSON message to hypha's RabbitMQ exchange, as your app would,
 * and waits for the broker to confirm it. Runs on Deno and on Bun:
 *
 *   npx deno run -A examples/publish.ts room.event '{"room":"orders","text":"hi"}'
 *   npx bun examples/publish.ts feed.item '{"text":"to everyone"}'
 *
 * With hypha started from config/examples/rabbitmq.toml, `room.event` reaches
 * the subscribers of `?room=orders`, `feed.item` every subscriber and
 * `notification.personal` ({"user_id": 42, ...}) the connections of
 * `?user_id=42`. Environment: RABBITMQ_URL (default
 * amqp://guest:guest@localhost:5672), HYPHA_EXCHANGE (default hypha.events).
 *
 * @module
 */

import process from "node:process";
import { AMQPClient } from "@cloudamqp/amqp-client";

const [routingKey, body] = process.argv.slice(2);
if (routingKey === undefined || body === undefined) {
  process.stderr.write(
    'usage: publish.ts ROUTING_KEY JSON   e.g. room.event \'{"room":"orders"}\'\n',
  );
  process.exit(2);
}
try {
  // hypha takes only a JSON object as a message body: fail here, not there.
  const parsed = JSON.parse(body);
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new SyntaxError("not a JSON object");
  }
} catch (error) {
  process.stderr.write(`publish.ts: JSON: ${(error as Error).message}\n`);
  process.exit(2);
}

const url = process.env.RABBITMQ_URL ?? "amqp://guest:guest@localhost:5672";
const exchange = process.env.HYPHA_EXCHANGE ?? "hypha.events";
const client = new AMQPClient(url);
await client.connect();
try {
  const channel = await client.channel();
  // Confirms: the publish resolves once the broker has taken the message.
  await channel.confirmSelect();
  await channel.basicPublish(exchange, routingKey, body, {
    contentType: "application/json",
    deliveryMode: 2,
  });
  console.log(`published to ${exchange} with routing key ${routingKey}`);
} finally {
  await client.close();
}
