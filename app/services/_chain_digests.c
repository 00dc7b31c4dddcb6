/*
 * Hashing for the audit-chain verifier (app/services/audit.py), without the GIL.
 *
 * hashlib holds the GIL while it hashes anything under 2 KiB, and an audit record is well
 * under that: the verifier's reader threads could read in parallel but hash only one at a
 * time. This hashes a whole batch of records in one call with the GIL released, using the
 * same OpenSSL SHA-256 that hashlib uses. It computes nothing its Python twin
 * (chain_digests_python in audit.py) does not; tests check that both agree.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>
#include <openssl/evp.h>

#define DIGEST_SIZE 32
#define HASH_HEX_SIZE 64

static const EVP_MD *sha256;

/* Where the part starting at `start` ends: at the next separator, or at `end`. */
static const char *
part_end(const char *start, const char *end, int separator)
{
    const char *found = memchr(start, separator, (size_t)(end - start));
    return found != NULL ? found : end;
}

/* How many parts `size` bytes split into at `separator` (none if there are no bytes). */
static Py_ssize_t
count_parts(const char *data, Py_ssize_t size, int separator)
{
    Py_ssize_t parts = 0;
    const char *end = data + size;
    for (const char *start = data; size > 0; start++) {
        start = part_end(start, end, separator);
        parts++;
        if (start == end) {
            break;
        }
    }
    return parts;
}

PyDoc_STRVAR(chain_digests_doc,
"chain_digests(prev_hashes, records, separator, /)\n--\n\n"
"The audit recipe over a batch: split `records` (bytes) at each `separator` byte and,\n"
"for each part, compute SHA-256 of its prev_hash (the next 64 bytes of `prev_hashes`),\n"
"a newline, and the part. Returns the digests joined, or None if there are not exactly\n"
"64 bytes of `prev_hashes` per part. Empty `records` holds no parts.");

static PyObject *
chain_digests(PyObject *Py_UNUSED(module), PyObject *args)
{
    Py_buffer prev_hashes, records;
    int separator;
    if (!PyArg_ParseTuple(args, "y*y*i:chain_digests", &prev_hashes, &records, &separator)) {
        return NULL;
    }
    PyObject *digests = NULL;
    EVP_MD_CTX *context = NULL;
    if (separator < 0 || separator > 255) {
        PyErr_SetString(PyExc_ValueError, "separator must be a byte");
        goto done;
    }
    const char *data = records.buf;
    Py_ssize_t parts;
    Py_BEGIN_ALLOW_THREADS
    parts = count_parts(data, records.len, separator);
    Py_END_ALLOW_THREADS
    if (prev_hashes.len != parts * HASH_HEX_SIZE) {
        digests = Py_NewRef(Py_None);
        goto done;
    }
    digests = PyBytes_FromStringAndSize(NULL, parts * DIGEST_SIZE);
    context = EVP_MD_CTX_new();
    if (digests == NULL || context == NULL) {
        Py_CLEAR(digests);
        if (!PyErr_Occurred()) {
            PyErr_NoMemory();
        }
        goto done;
    }
    unsigned char *out = (unsigned char *)PyBytes_AS_STRING(digests);
    const char *prev_hash = prev_hashes.buf;
    const char *end = data + records.len;
    int hashed = 1;

    /* The new bytes object is ours alone until returned: filling it needs no GIL. */
    Py_BEGIN_ALLOW_THREADS
    const char *start = data;
    for (Py_ssize_t index = 0; index < parts && hashed; index++) {
        const char *stop = part_end(start, end, separator);
        hashed = EVP_DigestInit_ex(context, sha256, NULL)
                 && EVP_DigestUpdate(context, prev_hash + index * HASH_HEX_SIZE, HASH_HEX_SIZE)
                 && EVP_DigestUpdate(context, "\n", 1)
                 && EVP_DigestUpdate(context, start, (size_t)(stop - start))
                 && EVP_DigestFinal_ex(context, out + index * DIGEST_SIZE, NULL);
        start = stop + 1;
    }
    Py_END_ALLOW_THREADS

    if (!hashed) {
        Py_CLEAR(digests);
        PyErr_SetString(PyExc_RuntimeError, "OpenSSL could not compute a SHA-256 digest");
    }
done:
    EVP_MD_CTX_free(context);
    PyBuffer_Release(&prev_hashes);
    PyBuffer_Release(&records);
    return digests;
}

static PyMethodDef methods[] = {
    {"chain_digests", chain_digests, METH_VARARGS, chain_digests_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_definition = {
    PyModuleDef_HEAD_INIT,
    .m_name = "app.services._chain_digests",
    .m_doc = "SHA-256 of a batch of audit records, computed without the GIL.",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC
PyInit__chain_digests(void)
{
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    /* Fetched once: EVP_sha256() would look the implementation up again on every init. */
    sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
#else
    sha256 = EVP_sha256();
#endif
    if (sha256 == NULL) {
        PyErr_SetString(PyExc_ImportError, "OpenSSL offers no SHA-256");
        return NULL;
    }
    return PyModule_Create(&module_definition);
}
