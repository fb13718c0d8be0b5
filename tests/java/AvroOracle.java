/*
 * Java Avro as a test oracle for Clubhouse's Python Avro code.
 *
 * One long-lived process: a JSON request per line on stdin, a JSON answer per line on stdout,
 * so a test session pays for JVM start-up once. Requests:
 *   {"op":"batch","requests":[REQUEST, ...]}
 *       -> {"ok":true,"answers":[ANSWER, ...]}  (one answer per request, in order; each has its
 *          own "ok", so one failing request does not hide the others' answers)
 *   {"op":"compat","reader":SCHEMA,"writer":SCHEMA}
 *       -> {"ok":true,"compatible":bool,"incompatibilities":[{"type","location","message"}]}
 *   {"op":"decode","writer":SCHEMA,"reader":SCHEMA?,"data":BASE64}
 *       -> {"ok":true,"json":AVRO_JSON_TEXT,"data":BASE64}  (the datum, re-encoded with the reader)
 *   {"op":"encode","schema":SCHEMA,"json":AVRO_JSON_TEXT}
 *       -> {"ok":true,"data":BASE64}
 * SCHEMA is the schema's JSON text. A request that fails answers {"ok":false,"error":TEXT}
 * and the process goes on with the next line.
 */

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.io.JsonEncoder;

public final class AvroOracle {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private AvroOracle() {}

  public static void main(String[] args) throws IOException {
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    PrintStream out =
        new PrintStream(new FileOutputStream(FileDescriptor.out), false, StandardCharsets.UTF_8);
    String line;
    while ((line = in.readLine()) != null) {
      ObjectNode answer;
      try {
        answer = answer(MAPPER.readTree(line));
      } catch (IOException e) { // a line that is not JSON: say so, and go on with the next
        answer = failure(e);
      }
      out.println(MAPPER.writeValueAsString(answer));
      out.flush();
    }
  }

  private static ObjectNode answer(JsonNode request) {
    try {
      ObjectNode answer = handle(request);
      answer.put("ok", true);
      return answer;
    } catch (Exception e) { // one bad request must not end the session's oracle
      return failure(e);
    }
  }

  private static ObjectNode failure(Exception e) {
    ObjectNode answer = MAPPER.createObjectNode();
    answer.put("ok", false);
    answer.put("error", e.getClass().getName() + ": " + e.getMessage());
    return answer;
  }

  private static ObjectNode batch(JsonNode requests) {
    if (!requests.isArray()) {
      throw new IllegalArgumentException("a batch needs an array under 'requests'");
    }
    ObjectNode answer = MAPPER.createObjectNode();
    ArrayNode answers = answer.putArray("answers");
    for (JsonNode request : requests) {
      answers.add(answer(request));
    }
    return answer;
  }

  private static Schema parse(JsonNode request, String key) {
    JsonNode text = request.get(key);
    if (text == null || !text.isTextual()) {
      throw new IllegalArgumentException("request has no schema text under '" + key + "'");
    }
    // A parser per schema: reader and writer usually define the same names.
    return new Schema.Parser().parse(text.asText());
  }

  private static ObjectNode handle(JsonNode request) throws IOException {
    String op = request.path("op").asText();
    switch (op) {
      case "batch":
        return batch(request.path("requests"));
      case "compat":
        return compat(parse(request, "reader"), parse(request, "writer"));
      case "decode":
        Schema writer = parse(request, "writer");
        Schema reader = request.hasNonNull("reader") ? parse(request, "reader") : writer;
        return decode(writer, reader, Base64.getDecoder().decode(request.path("data").asText()));
      case "encode":
        return encode(parse(request, "schema"), request.path("json").asText());
      default:
        throw new IllegalArgumentException("unknown op '" + op + "'");
    }
  }

  private static ObjectNode compat(Schema reader, Schema writer) {
    SchemaCompatibility.SchemaPairCompatibility pair =
        SchemaCompatibility.checkReaderWriterCompatibility(reader, writer);
    ObjectNode answer = MAPPER.createObjectNode();
    answer.put(
        "compatible",
        pair.getType() == SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE);
    ArrayNode found = answer.putArray("incompatibilities");
    for (SchemaCompatibility.Incompatibility i : pair.getResult().getIncompatibilities()) {
      ObjectNode item = found.addObject();
      item.put("type", i.getType().name());
      item.put("location", i.getLocation());
      item.put("message", i.getMessage());
    }
    return answer;
  }

  private static ObjectNode decode(Schema writer, Schema reader, byte[] data) throws IOException {
    BinaryDecoder decoder = DecoderFactory.get().binaryDecoder(data, null);
    Object datum = new GenericDatumReader<Object>(writer, reader).read(null, decoder);
    if (!decoder.isEnd()) {
      throw new IOException("trailing bytes after the datum");
    }
    ByteArrayOutputStream json = new ByteArrayOutputStream();
    JsonEncoder jsonEncoder = EncoderFactory.get().jsonEncoder(reader, json);
    new GenericDatumWriter<Object>(reader).write(datum, jsonEncoder);
    jsonEncoder.flush();
    ObjectNode answer = MAPPER.createObjectNode();
    answer.put("json", json.toString(StandardCharsets.UTF_8));
    answer.put("data", Base64.getEncoder().encodeToString(binary(reader, datum)));
    return answer;
  }

  private static ObjectNode encode(Schema schema, String json) throws IOException {
    Object datum =
        new GenericDatumReader<Object>(schema)
            .read(null, DecoderFactory.get().jsonDecoder(schema, json));
    ObjectNode answer = MAPPER.createObjectNode();
    answer.put("data", Base64.getEncoder().encodeToString(binary(schema, datum)));
    return answer;
  }

  private static byte[] binary(Schema schema, Object datum) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
    new GenericDatumWriter<Object>(schema).write(datum, encoder);
    encoder.flush();
    return out.toByteArray();
  }
}
