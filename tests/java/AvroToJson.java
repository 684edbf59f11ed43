// Reads Avro files with Apache Avro's Java library, as a Java service would (a
// GenericDatumReader, no logical type conversions), and writes each record in the
// specification's JSON encoding (Avro's own JsonEncoder), one line per record.
//
// Usage: java AvroToJson IN OUT [IN OUT ...]. A file Java refuses gets OUT.error instead,
// holding the exception, and the next file is read: tests/test_other_readers.py runs every
// file in one JVM.
import java.io.BufferedOutputStream;
import java.io.File;
import java.io.FileOutputStream;
import java.io.OutputStream;
import java.io.PrintWriter;

import org.apache.avro.Schema;
import org.apache.avro.file.DataFileReader;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.io.JsonEncoder;

public class AvroToJson {
    public static void main(String[] args) throws Exception {
        for (int i = 0; i + 1 < args.length; i += 2) {
            File out = new File(args[i + 1]);
            try (DataFileReader<Object> reader = new DataFileReader<>(new File(args[i]), new GenericDatumReader<>());
                    OutputStream sink = new BufferedOutputStream(new FileOutputStream(out))) {
                Schema schema = reader.getSchema();
                GenericDatumWriter<Object> writer = new GenericDatumWriter<>(schema);
                JsonEncoder encoder = EncoderFactory.get().jsonEncoder(schema, sink);
                for (Object record : reader) {
                    writer.write(record, encoder);
                    encoder.flush();
                    sink.write('\n');
                }
            } catch (Exception e) {
                try (PrintWriter error = new PrintWriter(args[i + 1] + ".error", "UTF-8")) {
                    error.print(e);
                }
            }
        }
    }
}
