package probe

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// Sample answers, written from the providers' documented formats
// (S3 ListObjectsV2 and error responses, Azure Blob "List Blobs",
// GCS JSON API "Objects: list").
const (
	s3Listing = `<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>media</Name><Prefix></Prefix><KeyCount>1</KeyCount><MaxKeys>1</MaxKeys><IsTruncated>true</IsTruncated><NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken><Contents><Key>avatars/cat.jpg</Key><LastModified>2026-11-20T09:14:03.000Z</LastModified><ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag><Size>48213</Size><StorageClass>STANDARD</StorageClass></Contents></ListBucketResult>`
	s3EmptyListing = `<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>media</Name><KeyCount>0</KeyCount><MaxKeys>1</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>`
	s3ListingOtherNS = `<s3:ListBucketResult xmlns:s3="urn:example:other"><s3:Name>media</s3:Name></s3:ListBucketResult>`
	s3Denied         = `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>4442587FB7D0A2F9</RequestId><HostId>EXAMPLEhostid=</HostId></Error>`
	s3AllDisabled = `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>AllAccessDisabled</Code><Message>All access to this object has been disabled</Message><RequestId>3A7B2C1D</RequestId></Error>`
	azureListing = `<?xml version="1.0" encoding="utf-8"?>
<EnumerationResults ServiceEndpoint="https://myaccount.blob.core.windows.net/" ContainerName="media"><MaxResults>1</MaxResults><Blobs><Blob><Name>avatars/cat.jpg</Name><Properties><Last-Modified>Fri, 20 Nov 2026 09:14:03 GMT</Last-Modified><Etag>0x8DC1A2B3C4D5E6F</Etag><Content-Length>48213</Content-Length><Content-Type>image/jpeg</Content-Type><BlobType>BlockBlob</BlobType><LeaseStatus>unlocked</LeaseStatus></Properties></Blob></Blobs><NextMarker>2!80!MDAwMDE3IWF2YXRhcnMvZG9nLmpwZyE-</NextMarker></EnumerationResults>`
	azureNotFound  = "\ufeff<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>ResourceNotFound</Code><Message>The specified resource does not exist.\nRequestId:b1d9c3e0-601e-0050-1c2b-3f8a5e000000\nTime:2026-11-24T17:20:00.0000000Z</Message></Error>"
	azurePublicOff = "\ufeff<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>PublicAccessNotPermitted</Code><Message>Public access is not permitted on this storage account.</Message></Error>"
	gcsListing     = `{
 "kind": "storage#objects",
 "nextPageToken": "CgxhdmF0YXJzL2RvZw==",
 "items": [{"kind": "storage#object", "id": "media/avatars/cat.jpg/1700000000000000", "name": "avatars/cat.jpg", "bucket": "media",
   "generation": "1700000000000000", "contentType": "image/jpeg", "size": "48213", "md5Hash": "mywC9fJ3McUNQ2ZaOYVTKA==",
   "timeCreated": "2026-11-20T09:14:03.123Z", "updated": "2026-11-20T09:14:03.123Z"}]
}`
	gcsEmptyListing = `{"kind": "storage#objects"}`
	gcsDenied       = `{"error": {"code": 401, "message": "Anonymous caller does not have storage.objects.list access to the Google Cloud Storage bucket. Permission 'storage.objects.list' denied on resource (or it may not exist).", "errors": [{"message": "Anonymous caller does not have storage.objects.list access", "domain": "global", "reason": "required"}]}}`
	htmlPage        = "<!DOCTYPE html>\n<html><head><title>Media</title></head><body><h1>Our media</h1></body></html>"
)

func TestDetectListing(t *testing.T) {
	tests := []struct {
		name        string
		status      int
		ctype, body string
		truncated   bool
		listing     bool
		answer      string // the answer starts with this
	}{
		{"S3 listing", 200, "application/xml", s3Listing, false, true, "listing"},
		{"S3 empty listing", 200, "application/xml", s3EmptyListing, false, true, "listing"},
		{"S3 listing, other namespace prefix", 200, "text/xml", s3ListingOtherNS, false, true, "listing"},
		{"S3 listing cut at the read limit", 200, "application/xml", s3Listing[:200], true, true, "listing (answer cut"},
		{"Azure listing", 200, "application/xml", azureListing, false, true, "listing"},
		{"GCS JSON listing", 200, "application/json; charset=UTF-8", gcsListing, false, true, "listing"},
		{"GCS empty JSON listing", 200, "application/json", gcsEmptyListing, false, true, "listing"},
		{"JSON with an items array", 200, "application/json", `{"items": []}`, false, true, "listing"},
		{"S3 AccessDenied", 403, "application/xml", s3Denied, false, false, "denied (AccessDenied)"},
		{"S3 AllAccessDisabled", 403, "application/xml", s3AllDisabled, false, false, "denied (AllAccessDisabled)"},
		{"GCS anonymous caller refused", 401, "application/json", gcsDenied, false, false, "denied (Anonymous caller"},
		{"Azure private container", 404, "application/xml", azureNotFound, false, false, "not found (ResourceNotFound)"},
		{"Azure public access off", 409, "application/xml", azurePublicOff, false, false, "HTTP 409 (PublicAccessNotPermitted)"},
		{"200 with an HTML page", 200, "text/html; charset=utf-8", htmlPage, false, false, "not a listing: an HTML page"},
		{"200 with HTML, no content type", 200, "", htmlPage, false, false, "not a listing: an HTML page"},
		{"200 with an S3 error document", 200, "application/xml", s3Denied, false, false, "not a listing: an error document (AccessDenied)"},
		{"malformed XML", 200, "application/xml", `<ListBucketResult><Name>media</Nam></ListBucketResult>`, false, false, "not a listing: malformed XML: "},
		{"unclosed root", 200, "application/xml", `<ListBucketResult><Name>media</Name>`, false, false, "not a listing: malformed XML: XML syntax error on line 1: unexpected EOF"},
		{"two roots", 200, "application/xml", `<ListBucketResult/><ListBucketResult/>`, false, false, "not a listing: malformed XML: more than one root"},
		{"other XML root", 200, "application/xml", `<ListAllMyBucketsResult><Buckets/></ListAllMyBucketsResult>`, false, false, "not a listing: XML whose root is <ListAllMyBucketsResult>"},
		{"malformed JSON", 200, "application/json", `{"kind": "storage#objects",`, false, false, "not a listing: malformed JSON: "},
		{"JSON without a list", 200, "application/json", `{"kind": "storage#bucket", "items": "no"}`, false, false, "not a listing: JSON without an object list"},
		{"JSON cut at the limit", 200, "application/json", `{"kind": "storage#objects", "items": [`, true, false, "not a listing: JSON answer longer than"},
		{"empty 200", 200, "application/xml", "", false, false, "not a listing: empty answer"},
		{"plain text", 200, "text/plain", "hello", false, false, "not a listing: text/plain"},
		{"server error", 500, "application/xml", `<Error><Code>InternalError</Code></Error>`, false, false, "server error 500 (InternalError)"},
		{"server error, not XML", 503, "text/plain", "busy", false, false, "server error 503"},
		{"redirect", 301, "application/xml", `<Error><Code>PermanentRedirect</Code></Error>`, false, false, "redirect (301), not followed"},
		{"listing in a 403 body is still denied", 403, "application/xml", s3Listing, false, false, "denied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := DetectListing(tt.status, tt.ctype, []byte(tt.body), tt.truncated)
			if a.Listing != tt.listing || !strings.HasPrefix(a.Answer, tt.answer) {
				t.Errorf("DetectListing = %v %q, want %v %q…", a.Listing, a.Answer, tt.listing, tt.answer)
			}
		})
	}
}

// FuzzBucketListing: whatever a server answers, detection never panics,
// says something short and printable, and only a 2xx is a listing.
func FuzzBucketListing(f *testing.F) {
	for _, body := range []string{s3Listing, s3EmptyListing, s3ListingOtherNS, s3Denied, azureListing, azureNotFound,
		gcsListing, gcsEmptyListing, gcsDenied, htmlPage, `<a><b></a>`, `{"items":`, "\x00\xff<", ""} {
		f.Add(200, "application/xml", []byte(body), false)
		f.Add(403, "", []byte(body), true)
	}
	f.Fuzz(func(t *testing.T, status int, ctype string, body []byte, truncated bool) {
		a := DetectListing(status, ctype, body, truncated)
		if a.Answer == "" || !utf8.ValidString(a.Answer) || utf8.RuneCountInString(a.Answer) > 300 {
			t.Fatalf("answer %q: empty, not UTF-8 or too long", a.Answer)
		}
		if a.Listing && (status < 200 || status > 299) {
			t.Fatalf("status %d judged a listing", status)
		}
		if a.Listing != strings.HasPrefix(a.Answer, "listing") {
			t.Fatalf("listing %v but answer %q", a.Listing, a.Answer)
		}
	})
}
