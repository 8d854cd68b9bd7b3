package tocsin

import (
	"slices"
	"testing"
	"time"
)

func TestBucketFindingsJudged(t *testing.T) {
	c := &Check{ID: 1, Kind: CheckBucket, Spec: CheckSpec{URL: "https://s3.example.org/media"}}
	denied := BucketProbe{URL: "https://s3.example.org/media/?list-type=2&max-keys=1", Style: "path", Status: 403, Answer: "denied"}
	down := BucketProbe{URL: "https://media.example.org/?list-type=2&max-keys=1", Style: "alias", Answer: "connection refused"}
	listing := BucketProbe{URL: down.URL, Style: "alias", Status: 200, Answer: "listing"}
	tests := []struct {
		name          string
		obs           *BucketObservation
		found, judged bool
	}{
		{"every URL denied: judged, nothing found", &BucketObservation{Probed: []BucketProbe{denied}}, false, true},
		{"one URL down: not judged (it may be the listable one)", &BucketObservation{Probed: []BucketProbe{denied, down}}, false, false},
		{"listable, another down: found", &BucketObservation{Probed: []BucketProbe{listing, down}, Listable: []string{listing.URL}}, true, true},
		{"no bucket observation", nil, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			found, judged := c.Findings(&CheckResult{Bucket: tt.obs}, time.Now())
			if (len(found) > 0) != tt.found || slices.Contains(judged, FindingBucketListable) != tt.judged {
				t.Errorf("found %v, judged %v; want found %v, judged %v", found, judged, tt.found, tt.judged)
			}
		})
	}
}
