package sales_test

import (
	"testing"

	"github.com/leadnurture/nurture/infra/localstack/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }
