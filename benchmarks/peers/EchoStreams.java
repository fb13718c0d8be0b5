/*
 * The service benchmark's job as a Kafka Streams app (Processor API, exactly_once_v2): each
 * Confluent-framed Avro ProcessMessageCommand on {prefix}-commands bumps its key's count in a
 * persistent (RocksDB) store with a changelog, and is answered on the same key with a framed
 * MessageProcessedResponse on {prefix}-responses and an AgentThinkingEvent on {prefix}-events:
 * the records the Clubhouse echo agent publishes, which ClubhouseClient reads as the answer.
 *
 * Confluent's serializers are not on Maven Central, so the framing (magic byte 0, the 4-byte
 * big-endian schema id, the Avro binary body) is written here with plain Apache Avro. The
 * schemas and their registered ids come from the launcher (benchmarks/peers/streams.py) in a
 * JSON file, looked up in the registry there.
 *
 * Usage: EchoStreams BOOTSTRAP PREFIX CONTRACT_JSON COMMIT_INTERVAL_MS STATE_DIR
 */

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;

public final class EchoStreams {
    static final String STORE = "counts";
    static final String READY = "echo-streams: RUNNING";

    /** One message type: its registered schema id and its writer schema. */
    record Contract(int id, Schema schema) {
        static Contract of(JsonNode node) {
            return new Contract(node.get("id").asInt(), new Schema.Parser().parse(node.get("schema").asText()));
        }
    }

    public static void main(String[] args) throws IOException, InterruptedException {
        if (args.length != 5) {
            System.err.println("usage: EchoStreams BOOTSTRAP PREFIX CONTRACT_JSON COMMIT_INTERVAL_MS STATE_DIR");
            System.exit(2);
        }
        String bootstrap = args[0];
        String prefix = args[1];
        JsonNode contract = new ObjectMapper().readTree(new File(args[2]));
        Contract command = Contract.of(contract.get("command"));
        Contract response = Contract.of(contract.get("response"));
        Contract event = Contract.of(contract.get("event"));

        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, prefix + "-streams");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, Integer.parseInt(args[3]));
        props.put(StreamsConfig.STATE_DIR_CONFIG, args[4]);
        props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
        props.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, 1); // a one-node broker
        // The consumer settings every path of the benchmark shares (Clubhouse's dev tuning).
        props.put(StreamsConfig.consumerPrefix(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG), 10);
        props.put(StreamsConfig.consumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG), 6000);
        props.put(StreamsConfig.consumerPrefix(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG), 1000);

        Topology topology = new Topology();
        topology.addSource("commands", Serdes.String().deserializer(), Serdes.ByteArray().deserializer(),
                prefix + "-commands");
        topology.addProcessor("echo", () -> new Echo(command, response, event), "commands");
        topology.addStateStore(
                Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(STORE), Serdes.String(), Serdes.Long()),
                "echo");
        topology.addSink("responses", prefix + "-responses", Serdes.String().serializer(),
                Serdes.ByteArray().serializer(), "echo");
        topology.addSink("events", prefix + "-events", Serdes.String().serializer(),
                Serdes.ByteArray().serializer(), "echo");

        KafkaStreams streams = new KafkaStreams(topology, props);
        CountDownLatch stopped = new CountDownLatch(1);
        streams.setStateListener((now, before) -> {
            if (now == KafkaStreams.State.RUNNING) {
                System.out.println(READY);
                System.out.flush();
            }
            if (now == KafkaStreams.State.ERROR || now == KafkaStreams.State.NOT_RUNNING) {
                stopped.countDown();
            }
        });
        // The launcher stops us with SIGTERM: close cleanly, so the last transaction commits.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            streams.close(Duration.ofSeconds(10));
            stopped.countDown();
        }));
        streams.start();
        stopped.await();
        System.exit(streams.state() == KafkaStreams.State.ERROR ? 1 : 0);
    }

    /** Decodes a command, counts it for its key, and answers it with a response and an event. */
    static final class Echo implements Processor<String, byte[], String, byte[]> {
        private final Contract command;
        private final Contract response;
        private final Contract event;
        private final GenericDatumReader<GenericRecord> reader;
        private final GenericDatumWriter<GenericRecord> responseWriter;
        private final GenericDatumWriter<GenericRecord> eventWriter;
        private ProcessorContext<String, byte[]> context;
        private KeyValueStore<String, Long> counts;
        private BinaryDecoder decoder;
        private BinaryEncoder encoder;
        private GenericRecord decoded;

        Echo(Contract command, Contract response, Contract event) {
            this.command = command;
            this.response = response;
            this.event = event;
            this.reader = new GenericDatumReader<>(command.schema());
            this.responseWriter = new GenericDatumWriter<>(response.schema());
            this.eventWriter = new GenericDatumWriter<>(event.schema());
        }

        @Override
        public void init(ProcessorContext<String, byte[]> context) {
            this.context = context;
            this.counts = context.getStateStore(STORE);
        }

        @Override
        public void process(Record<String, byte[]> in) {
            byte[] value = in.value();
            // Anything but a framed command of the one known schema id is not this job's.
            if (value == null || value.length < 5 || value[0] != 0
                    || ByteBuffer.wrap(value, 1, 4).getInt() != command.id()) {
                return;
            }
            try {
                decoder = DecoderFactory.get().binaryDecoder(value, 5, value.length - 5, decoder);
                decoded = reader.read(decoded, decoder);
            } catch (IOException e) {
                return; // undecodable: skipped, like any record that is not a command
            }
            Long seen = counts.get(in.key());
            counts.put(in.key(), seen == null ? 1L : seen + 1);

            long now = micros(Instant.now());
            GenericRecord answer = new GenericData.Record(response.schema());
            String answerId = UUID.randomUUID().toString();
            answer.put("message_id", answerId);
            answer.put("timestamp", now);
            answer.put("message_type", "response.message_processed");
            answer.put("in_response_to", decoded.get("message_id").toString());
            answer.put("agent_id", decoded.get("agent_id"));
            answer.put("content", decoded.get("content"));
            answer.put("conversation_id", decoded.get("conversation_id"));
            answer.put("metadata", "{\"agent\":\"echo\"}");
            context.forward(framed(in, response, responseWriter, answer, "response.message_processed", answerId),
                    "responses");

            GenericRecord thinking = new GenericData.Record(event.schema());
            String eventId = UUID.randomUUID().toString();
            thinking.put("message_id", eventId);
            thinking.put("timestamp", now);
            thinking.put("message_type", "event.agent_thinking");
            thinking.put("agent_id", decoded.get("agent_id"));
            context.forward(framed(in, event, eventWriter, thinking, "event.agent_thinking", eventId), "events");
        }

        private Record<String, byte[]> framed(Record<String, byte[]> in, Contract contract,
                GenericDatumWriter<GenericRecord> writer, GenericRecord datum, String type, String id) {
            ByteArrayOutputStream out = new ByteArrayOutputStream(256);
            out.write(0);
            out.write(contract.id() >>> 24);
            out.write(contract.id() >>> 16);
            out.write(contract.id() >>> 8);
            out.write(contract.id());
            encoder = EncoderFactory.get().directBinaryEncoder(out, encoder);
            try {
                writer.write(datum, encoder);
                encoder.flush();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            RecordHeaders headers = new RecordHeaders();
            headers.add("message_type", type.getBytes(StandardCharsets.UTF_8));
            headers.add("message_id", id.getBytes(StandardCharsets.UTF_8));
            return in.withValue(out.toByteArray()).withHeaders(headers);
        }

        private static long micros(Instant at) {
            return at.getEpochSecond() * 1_000_000L + at.getNano() / 1_000;
        }
    }
}
